using System.Management.Automation;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// PowerShell calls this when the module is imported into a runspace
    /// (including <c>Import-Module -Force</c>) and when it is removed from one.
    /// </summary>
    public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        /// <summary>
        /// Chooses and loads the profile store, as Posh-IBWAPI 4.x does at
        /// import, and reports problems on the importer's streams.
        /// </summary>
        public void OnImport()
        {
            ModuleSession.ImportIntoCurrentRunspace();
        }

        /// <summary>Frees the runspace's store.</summary>
        /// <param name="psModuleInfo">The module being removed.</param>
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            ModuleSession.Close();
        }
    }
}
