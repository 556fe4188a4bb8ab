using System.Management.Automation;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// Get-IBConfig: the current profile, a named one, or all of them sorted
    /// by name.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "IBConfig", DefaultParameterSetName = SpecificSet)]
    [OutputType("PoshIBWAPI.IBConfig")]
    public sealed class GetIBConfigCommand : IBConfigCmdlet
    {
        private const string SpecificSet = "Specific";
        private const string ListSet = "List";

        /// <summary>Gets or sets the profile to return; the current one when omitted.</summary>
        [Parameter(ParameterSetName = SpecificSet, Position = 0)]
        [ValidateNotBlank]
        [ArgumentCompleter(typeof(ProfileNameCompleter))]
        public string ProfileName { get; set; }

        /// <summary>Gets or sets whether to return every profile.</summary>
        [Parameter(ParameterSetName = ListSet, Mandatory = true)]
        public SwitchParameter List { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            try
            {
                // As in 4.x, the List parameter set lists even with -List:$false.
                if (ParameterSetName == ListSet)
                {
                    WriteAll();
                }
                else
                {
                    WriteOne();
                }
            }
            catch (IBConfigException failure)
            {
                ThrowTerminating(failure, ProfileName);
            }
        }

        private void WriteOne()
        {
            ProfileRecord profile = Call(() => Store.Get(ProfileName));
            if (profile != null)
            {
                WriteObject(profile.ToPSObject());
            }
        }

        private void WriteAll()
        {
            foreach (ProfileRecord profile in Call(() => Store.List()))
            {
                WriteObject(profile.ToPSObject());
            }
        }
    }
}
