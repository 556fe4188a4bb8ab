using System.Management.Automation;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// Set-IBConfig: creates or edits a connection profile and saves it at
    /// once; the profile becomes current unless -NoSwitchProfile.
    /// </summary>
    /// <remarks>
    /// Positions 0 to 4 match the implicit positions Posh-IBWAPI 4.x's
    /// function gave its non-switch parameters.
    /// </remarks>
    [Cmdlet(
        VerbsCommon.Set,
        "IBConfig",
        SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Low)]
    public sealed class SetIBConfigCommand : IBConfigCmdlet
    {
        /// <summary>
        /// Gets or sets the profile to create or edit; the current one when omitted.
        /// </summary>
        [Parameter(Position = 0)]
        [Alias("name")]
        [ValidateNotBlank]
        [ArgumentCompleter(typeof(ProfileNameCompleter))]
        public string ProfileName { get; set; }

        /// <summary>Gets or sets the grid master's host name or address.</summary>
        [Parameter(Position = 1)]
        [Alias("host")]
        [ValidateNotBlank]
        public string WAPIHost { get; set; }

        /// <summary>Gets or sets the WAPI version, such as 2.12, or latest.</summary>
        [Parameter(Position = 2)]
        [Alias("version")]
        [ValidateNotBlank]
        [ValidateWapiVersion]
        public string WAPIVersion { get; set; }

        /// <summary>Gets or sets the user name and password for the grid.</summary>
        [Parameter(Position = 3)]
        public PSCredential Credential { get; set; }

        /// <summary>Gets or sets whether to skip TLS certificate validation.</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>Gets or sets whether to avoid keeping a WAPI session.</summary>
        [Parameter]
        public SwitchParameter NoSession { get; set; }

        /// <summary>Gets or sets a new name for the profile.</summary>
        [Parameter(Position = 4)]
        [ValidateNotBlank]
        public string NewName { get; set; }

        /// <summary>Gets or sets whether to leave the current profile as it is.</summary>
        [Parameter]
        public SwitchParameter NoSwitchProfile { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            try
            {
                if (UsesEnvironmentProfile)
                {
                    WriteWarning("Set-IBConfig cannot change profiles while the"
                        + " environment-variable profile (ENV) is in use; nothing was changed.");
                    return;
                }

                if (!ShouldProcess(DescribeTarget(), "Save connection profile"))
                {
                    return;
                }

                Call(() => Store.Set(BuildChange()));
            }
            catch (IBConfigException failure)
            {
                ThrowTerminating(failure, ProfileName);
            }
            catch (GridQueryException failure)
            {
                ThrowTerminatingError(new ErrorRecord(
                    failure, "WAPIVersionQueryFailed", failure.Category, ProfileName));
            }
        }

        private string DescribeTarget()
        {
            string name = ProfileName ?? "the current profile";
            return NewName == null ? name : $"{name} (renamed to {NewName})";
        }

        private ProfileChange BuildChange()
        {
            return new ProfileChange
            {
                ProfileName = ProfileName,
                WAPIHost = WAPIHost,
                WAPIVersion = ResolveVersion(),
                Credential = Credential,
                SkipCertificateCheck = BoundSwitch(
                    nameof(SkipCertificateCheck), SkipCertificateCheck),
                NoSession = BoundSwitch(nameof(NoSession), NoSession),
                NewName = NewName,
                NoSwitchProfile = NoSwitchProfile.IsPresent,
            };
        }

        private bool? BoundSwitch(string name, SwitchParameter value)
        {
            // Leaving a switch out keeps the saved value; -Switch:$false clears it.
            return MyInvocation.BoundParameters.ContainsKey(name) ? value.IsPresent : (bool?)null;
        }

        private string ResolveVersion()
        {
            if (!ValidateWapiVersionAttribute.IsLatest(WAPIVersion))
            {
                return WAPIVersion;
            }

            // The grid is asked with the profile as it will be saved: new values
            // where given, saved ones otherwise.
            ProfileRecord saved = Call(() => Store.Get(ProfileName));
            string host = WAPIHost ?? saved?.WAPIHost;
            PSCredential credential = Credential ?? saved?.Credential;
            bool skip = BoundSwitch(nameof(SkipCertificateCheck), SkipCertificateCheck)
                ?? saved?.SkipCertificateCheck ?? false;
            if (host == null || credential == null)
            {
                // Keep the saved version, so the core names the missing host or credential.
                return null;
            }

            WriteVerbose($"Asking the grid {host} for its newest WAPI version.");
            string version = new GridVersionQuery(host, credential.GetNetworkCredential(), skip)
                .HighestVersion();
            WriteVerbose($"The grid {host} supports WAPI {version} at most.");
            return version;
        }
    }
}
