using System.Management.Automation;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// Move-IBConfig: moves profiles from the config file to the vault named
    /// by IBWAPI_VAULT_NAME, or back; the source loses them once the
    /// destination holds them all.
    /// </summary>
    [Cmdlet(VerbsCommon.Move, "IBConfig", SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType("PoshIBWAPI.IBConfig")]
    public sealed class MoveIBConfigCommand : MigrationCmdlet
    {
        /// <inheritdoc/>
        internal override bool MovesProfiles => true;
    }
}
