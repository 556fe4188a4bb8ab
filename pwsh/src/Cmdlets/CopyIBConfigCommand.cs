using System.Management.Automation;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// Copy-IBConfig: copies profiles from the config file to the vault named
    /// by IBWAPI_VAULT_NAME, or back; the source keeps them.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "IBConfig", SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Low)]
    [OutputType("PoshIBWAPI.IBConfig")]
    public sealed class CopyIBConfigCommand : MigrationCmdlet
    {
        /// <inheritdoc/>
        internal override bool MovesProfiles => false;
    }
}
