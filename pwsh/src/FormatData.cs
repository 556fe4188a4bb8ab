using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// Loads the table view of profiles (PoshIBWAPI.Config.format.ps1xml) into
    /// a runspace the first time a cmdlet is about to output a profile there.
    /// </summary>
    /// <remarks>
    /// The manifest does not list the file in FormatsToProcess: loading format
    /// data rebuilds the session's whole format table, about 20 to 30 ms of a
    /// fresh pwsh's import, which scripts that only read or save profiles never
    /// need. The cost moves to the first Get-IBConfig. Known difference from
    /// FormatsToProcess: Remove-Module leaves the view loaded (it is harmless,
    /// and a later import finds it there).
    /// </remarks>
    internal static class FormatData
    {
        private const string FileName = "PoshIBWAPI.Config.format.ps1xml";

        private static readonly ConditionalWeakTable<Runspace, object> Loaded =
            new ConditionalWeakTable<Runspace, object>();

        /// <summary>Loads the view into the calling runspace unless it is there.</summary>
        /// <param name="cmdlet">The cmdlet about to write profiles (for warnings).</param>
        internal static void EnsureLoaded(Cmdlet cmdlet)
        {
            Runspace runspace = Runspace.DefaultRunspace;
            if (runspace == null || Loaded.TryGetValue(runspace, out _))
            {
                return;
            }

            Loaded.Add(runspace, new object());
            try
            {
                Load();
            }
            catch (Exception e) when (!(e is PipelineStoppedException))
            {
                // The profiles still come out, only without the table view.
                cmdlet.WriteWarning($"Could not load the table view of profiles ({FileName}): "
                    + e.Message);
            }
        }

        private static void Load()
        {
            string path = Path.Combine(
                Path.GetDirectoryName(typeof(FormatData).Assembly.Location), FileName);

            using (PowerShell nested = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                Type command = UpdateFormatDataType();
                if (command != null)
                {
                    nested.AddCommand(new CmdletInfo("Update-FormatData", command));
                }
                else
                {
                    nested.AddCommand("Microsoft.PowerShell.Utility\\Update-FormatData");
                }

                nested.AddParameter("AppendPath", path).Invoke();
                if (nested.Streams.Error.Count > 0)
                {
                    throw nested.Streams.Error[0].Exception;
                }
            }
        }

        /// <summary>
        /// The class of Update-FormatData when its assembly is loaded (as in every
        /// pwsh): calling it by name would import the whole
        /// Microsoft.PowerShell.Utility module first (about 190 ms).
        /// </summary>
        private static Type UpdateFormatDataType()
        {
            return AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => a.GetName().Name == "Microsoft.PowerShell.Commands.Utility")
                .Select(a => a.GetType("Microsoft.PowerShell.Commands.UpdateFormatDataCommand"))
                .FirstOrDefault(t => t != null);
        }
    }
}
