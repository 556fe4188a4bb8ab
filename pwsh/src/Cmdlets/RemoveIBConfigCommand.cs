using System.Management.Automation;
using PoshIBWAPI.Config.Native;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// Remove-IBConfig: removes one profile (the current one by default) or,
    /// with -AllProfiles, every profile and the stored file or secrets.
    /// </summary>
    [Cmdlet(
        VerbsCommon.Remove,
        "IBConfig",
        DefaultParameterSetName = SpecificSet,
        SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Low)]
    public sealed class RemoveIBConfigCommand : IBConfigCmdlet
    {
        private const string SpecificSet = "Specific";
        private const string AllSet = "All";

        private bool _readOnly;

        /// <summary>Gets or sets the profile to remove; the current one when omitted.</summary>
        [Parameter(
            ParameterSetName = SpecificSet,
            Position = 0,
            ValueFromPipeline = true,
            ValueFromPipelineByPropertyName = true)]
        [Alias("name")]
        [ValidateNotBlank]
        [ArgumentCompleter(typeof(ProfileNameCompleter))]
        public string ProfileName { get; set; }

        /// <summary>Gets or sets whether to remove every profile.</summary>
        [Parameter(ParameterSetName = AllSet, Mandatory = true)]
        public SwitchParameter AllProfiles { get; set; }

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            base.BeginProcessing();

            // One warning per command, not per piped profile.
            _readOnly = UsesEnvironmentProfile;
            if (_readOnly)
            {
                WriteWarning("Remove-IBConfig cannot remove profiles while the"
                    + " environment-variable profile (ENV) is in use; nothing was changed.");
            }
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (_readOnly)
            {
                return;
            }

            try
            {
                if (ParameterSetName == AllSet)
                {
                    RemoveAll();
                }
                else
                {
                    RemoveOne();
                }
            }
            catch (IBConfigException failure)
            {
                ThrowTerminating(failure, ProfileName);
            }
        }

        private void RemoveAll()
        {
            // -AllProfiles:$false is odd but valid: it removes nothing.
            if (AllProfiles.IsPresent && ShouldProcess("all connection profiles", "Remove"))
            {
                Call(() => Store.RemoveAll());
            }
        }

        private void RemoveOne()
        {
            if (!ShouldProcess(ProfileName ?? "the current profile", "Remove connection profile"))
            {
                return;
            }

            try
            {
                Call(() => Store.Remove(ProfileName));
            }
            catch (IBConfigException failure) when (failure.Status == IbStatus.ProfileNotFound)
            {
                WriteWarning(failure.Message);
            }
        }
    }
}
