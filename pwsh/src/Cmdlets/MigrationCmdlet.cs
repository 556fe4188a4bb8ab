using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// What Copy-IBConfig and Move-IBConfig share: profiles go between the
    /// config file and the vault named by IBWAPI_VAULT_NAME, all or nothing,
    /// after the names piped in have all been collected.
    /// </summary>
    public abstract class MigrationCmdlet : IBConfigCmdlet
    {
        private readonly List<string> _names = new List<string>();

        /// <summary>Gets or sets where the profiles go: File or Vault.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public ProfileStoreName Destination { get; set; }

        /// <summary>
        /// Gets or sets the profiles to migrate; all of the source when omitted.
        /// </summary>
        [Parameter(Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("name")]
        [ValidateNotBlank]
        [ArgumentCompleter(typeof(ProfileNameCompleter))]
        public string[] ProfileName { get; set; }

        /// <summary>Gets or sets whether to replace different profiles of the same name.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Gets or sets whether to write the migrated profiles to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>
        /// Gets whether the source keeps the profiles (copy) or loses them (move).
        /// </summary>
        internal abstract bool MovesProfiles { get; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (ProfileName != null)
            {
                _names.AddRange(ProfileName);
            }
        }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            try
            {
                List<ProfileRecord> planned = Call(() => Store.Migrate(Request(dryRun: true)));
                if (planned.Count == 0 || !ShouldProcess(Describe(planned), Action()))
                {
                    return;
                }

                List<ProfileRecord> done = Call(() => Store.Migrate(Request(dryRun: false)));
                WriteDone(done);
            }
            catch (IBConfigException failure)
            {
                ThrowTerminating(failure, _names.Count == 0 ? null : _names.ToArray());
            }
        }

        private MigrationRequest Request(bool dryRun)
        {
            return new MigrationRequest
            {
                Destination = Destination,
                ProfileNames = _names.Count == 0 ? null : _names.ToArray(),
                Move = MovesProfiles,
                Overwrite = Force.IsPresent,
                DryRun = dryRun,
            };
        }

        private string Action()
        {
            string verb = MovesProfiles ? "Move" : "Copy";
            return Destination == ProfileStoreName.Vault
                ? $"{verb} from the config file to the vault"
                : $"{verb} from the vault to the config file";
        }

        private static string Describe(List<ProfileRecord> profiles)
        {
            return "profile(s) "
                + string.Join(", ", profiles.Select(p => "'" + p.ProfileName + "'"));
        }

        private void WriteDone(List<ProfileRecord> done)
        {
            WriteVerbose($"{Action()}: {Describe(done)}.");
            if (PassThru)
            {
                foreach (ProfileRecord profile in done)
                {
                    WriteObject(profile.ToPSObject());
                }
            }
        }
    }
}
