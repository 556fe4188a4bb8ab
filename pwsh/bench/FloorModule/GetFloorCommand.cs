using System.Management.Automation;

namespace IBBench.Floor
{
    /// <summary>
    /// Get-IBBenchFloor: writes one string. It exists so that the floor module
    /// has a cmdlet to import and to call; its per-call time is what
    /// PowerShell itself charges for invoking a binary cmdlet.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "IBBenchFloor")]
    [OutputType(typeof(string))]
    public sealed class GetFloorCommand : PSCmdlet
    {
        /// <summary>Gets or sets a name to echo: a parameter to bind, as -ProfileName is.</summary>
        [Parameter(Position = 0)]
        public string Name { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            WriteObject(Name ?? "floor");
        }
    }
}
