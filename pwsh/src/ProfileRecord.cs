using System.Management.Automation;

namespace PoshIBWAPI.Config
{
    /// <summary>A connection profile as the core returned it.</summary>
    internal sealed class ProfileRecord
    {
        public string ProfileName { get; set; }

        public string WAPIHost { get; set; }

        public string WAPIVersion { get; set; }

        public PSCredential Credential { get; set; }

        public bool SkipCertificateCheck { get; set; }

        public bool NoSession { get; set; }

        public bool IsCurrent { get; set; }

        /// <summary>
        /// The object Get-IBConfig writes: type name PoshIBWAPI.IBConfig and
        /// the six properties Posh-IBWAPI 4.x scripts read.
        /// </summary>
        public PSObject ToPSObject()
        {
            var result = new PSObject();
            result.Properties.Add(new PSNoteProperty(nameof(ProfileName), ProfileName));
            result.Properties.Add(new PSNoteProperty(nameof(WAPIHost), WAPIHost));
            result.Properties.Add(new PSNoteProperty(nameof(WAPIVersion), WAPIVersion));
            result.Properties.Add(new PSNoteProperty(nameof(Credential), Credential));
            result.Properties.Add(
                new PSNoteProperty(nameof(SkipCertificateCheck), SkipCertificateCheck));
            result.Properties.Add(new PSNoteProperty(nameof(NoSession), NoSession));
            result.TypeNames.Insert(0, "PoshIBWAPI.IBConfig");
            return result;
        }
    }

    /// <summary>What Set-IBConfig asks to change; null members keep the saved value.</summary>
    internal sealed class ProfileChange
    {
        public string ProfileName { get; set; }

        public string WAPIHost { get; set; }

        public string WAPIVersion { get; set; }

        public PSCredential Credential { get; set; }

        public bool? SkipCertificateCheck { get; set; }

        public bool? NoSession { get; set; }

        public string NewName { get; set; }

        public bool NoSwitchProfile { get; set; }
    }
}

namespace PoshIBWAPI.Config
{
    /// <summary>Where Copy-IBConfig and Move-IBConfig put the profiles.</summary>
    public enum ProfileStoreName
    {
        /// <summary>The config file posh-ibwapi.json.</summary>
        File = 1,

        /// <summary>The vault named by IBWAPI_VAULT_NAME.</summary>
        Vault = 2,
    }

    /// <summary>One migration between the config file and the vault.</summary>
    internal sealed class MigrationRequest
    {
        public ProfileStoreName Destination { get; set; }

        public string[] ProfileNames { get; set; }

        public bool Move { get; set; }

        public bool Overwrite { get; set; }

        public bool DryRun { get; set; }
    }
}
