using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PoshIBWAPI.Config.Native;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// The profile store of each runspace that imported the module. The store
    /// is chosen and loaded once per import (as Posh-IBWAPI 4.x does), so
    /// <c>Import-Module -Force</c> reads the stores afresh, and a second
    /// runspace gets its own store.
    /// </summary>
    public static class ModuleSession
    {
        /// <summary>
        /// The IBWAPI_* variables the core reads, passed on from .NET's environment.
        /// </summary>
        internal static readonly string[] EnvironmentSettings =
        {
            "IBWAPI_HOST", "IBWAPI_VERSION", "IBWAPI_USERNAME", "IBWAPI_PASSWORD",
            "IBWAPI_SKIPCERTCHECK", "IBWAPI_NOSESSION", "IBWAPI_VAULT_NAME",
            "IBWAPI_VAULT_SECRET_TEMPLATE", "IBWAPI_VAULT_PASS", "IBWAPI_CONFIG_SYNC",
        };

        private static readonly ConditionalWeakTable<Runspace, NativeStore> Stores =
            new ConditionalWeakTable<Runspace, NativeStore>();

        private static readonly object Gate = new object();

        /// <summary>
        /// Chooses and loads the store for the calling runspace, replacing any
        /// earlier one; returns what the core reported (warnings, errors, verbose
        /// text) for the caller's streams.
        /// </summary>
        /// <param name="sessionState">The importing session, used to resolve
        /// PowerShell paths such as <c>TestDrive:\</c> in HOME or LOCALAPPDATA.</param>
        internal static IReadOnlyList<LogRecord> Open(SessionState sessionState)
        {
            NativeLibraryLoader.EnsureRegistered();
            EnsureLogInstalled();
            NativeStore store;
            try
            {
                using (HostVault.Use(sessionState?.InvokeCommand))
                {
                    store = NativeStore.Open(ReadSettings(sessionState));
                }
            }
            catch
            {
                // Records of a failed open belong to no later call.
                NativeLog.Drain();
                throw;
            }

            IReadOnlyList<LogRecord> records = NativeLog.Drain();
            store.Choice = string.Join(
                " ", records.Where(r => r.Level == LogLevel.Info).Select(r => r.Message));
            Replace(store);
            return records;
        }

        /// <summary>
        /// Opens the store of the runspace that is importing the module, and writes
        /// what the core reported to the importer's streams. Called once per import
        /// by <see cref="ModuleLifecycle.OnImport"/>.
        /// </summary>
        /// <remarks>
        /// No script module does this: running any script at import costs about
        /// 40 ms of JIT in a fresh pwsh, and a cmdlet such as Write-Verbose loads
        /// Microsoft.PowerShell.Utility (about 190 ms). So the importer's session
        /// is fetched with one tiny script block, and records are replayed by a
        /// script only when the preference variables would show any of them.
        /// </remarks>
        internal static void ImportIntoCurrentRunspace()
        {
            SessionState session = ImporterSessionState();
            IReadOnlyList<LogRecord> records = Open(session);
            bool verbose = Shows(session, "VerbosePreference");
            bool debug = Shows(session, "DebugPreference");

            List<LogRecord> shown = records.Where(r => r.Level <= LogLevel.Warning
                || (r.Level == LogLevel.Info ? verbose : debug)).ToList();
            if (shown.Count > 0)
            {
                // InvokeWithContext, unlike Invoke, sends errors to the importer's
                // error stream, so that 2>&1 around Import-Module catches them.
                ScriptBlock.Create(ReplayScript).InvokeWithContext(null, null, shown);
            }
        }

        /// <summary>Writes records handed over as the first argument to their streams.</summary>
        private const string ReplayScript = @"
foreach ($record in $args[0]) {
    switch ($record.Level) {
        'Error'   { Write-Error -ErrorRecord $record.ToErrorRecord() }
        'Warning' { Write-Warning -Message $record.Message }
        'Info'    { Write-Verbose -Message $record.Message }
        default   { Write-Debug -Message $record.Message }
    }
}";

        private static SessionState ImporterSessionState()
        {
            // A module initializer gets no session, and the runspace's
            // SessionStateProxy refuses calls while Import-Module runs.
            Collection<PSObject> result =
                ScriptBlock.Create("$ExecutionContext.SessionState").Invoke();
            return result.Count == 1 ? result[0]?.BaseObject as SessionState : null;
        }

        /// <summary>Frees the calling runspace's store; Remove-Module calls it.</summary>
        internal static void Close()
        {
            Runspace runspace = Runspace.DefaultRunspace;
            if (runspace == null)
            {
                return;
            }

            lock (Gate)
            {
                if (Stores.TryGetValue(runspace, out NativeStore old))
                {
                    Stores.Remove(runspace);
                    old.Dispose();
                }
            }
        }

        /// <summary>
        /// The calling runspace's store, opened now when the import did not open
        /// it (a runspace that did not import the module itself); then
        /// <paramref name="openRecords"/> holds what opening reported.
        /// </summary>
        internal static NativeStore GetOrOpen(
            SessionState sessionState, out IReadOnlyList<LogRecord> openRecords)
        {
            openRecords = Array.Empty<LogRecord>();
            Runspace runspace = Runspace.DefaultRunspace;
            if (runspace != null && Stores.TryGetValue(runspace, out NativeStore store))
            {
                return store;
            }

            openRecords = Open(sessionState);
            Stores.TryGetValue(Runspace.DefaultRunspace, out store);
            return store;
        }

        /// <summary>The store of the calling runspace, or null before import.</summary>
        internal static NativeStore TryGet()
        {
            Runspace runspace = Runspace.DefaultRunspace;
            if (runspace != null && Stores.TryGetValue(runspace, out NativeStore store))
            {
                return store;
            }

            return null;
        }

        private static void Replace(NativeStore store)
        {
            Runspace runspace = Runspace.DefaultRunspace;
            if (runspace == null)
            {
                store.Dispose();
                throw new InvalidOperationException(
                    "PoshIBWAPI.Config must be imported into a PowerShell runspace.");
            }

            lock (Gate)
            {
                if (Stores.TryGetValue(runspace, out NativeStore old))
                {
                    Stores.Remove(runspace);
                    old.Dispose();
                }

                Stores.Add(runspace, store);
            }
        }

        private static bool Shows(SessionState sessionState, string preferenceVariable)
        {
            object value = sessionState?.PSVariable.GetValue(preferenceVariable);
            if (value == null)
            {
                return false;
            }

            // A preference PowerShell cannot read either is kept: better shown than lost.
            if (!Enum.TryParse(value.ToString(), true, out ActionPreference preference))
            {
                return true;
            }

            return preference != ActionPreference.SilentlyContinue
                && preference != ActionPreference.Ignore;
        }

        private static bool _logInstalled;

        private static void EnsureLogInstalled()
        {
            lock (Gate)
            {
                if (!_logInstalled)
                {
                    NativeLog.Install();
                    _logInstalled = true;
                }
            }
        }

        private static IEnumerable<KeyValuePair<string, string>> ReadSettings(SessionState session)
        {
            // On Linux and macOS .NET keeps its own copy of the environment
            // ($env: writes go there, not to libc), so the core never calls getenv.
            foreach (string name in EnvironmentSettings)
            {
                string value = Environment.GetEnvironmentVariable(name);
                if (value != null)
                {
                    yield return new KeyValuePair<string, string>(name, value);
                }
            }

            yield return new KeyValuePair<string, string>("config_path", ConfigPath(session));
        }

        /// <summary>Where Posh-IBWAPI 4.x keeps posh-ibwapi.json on this platform.</summary>
        internal static string ConfigPath(SessionState session)
        {
            string folder;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                folder = Environment.GetEnvironmentVariable("LOCALAPPDATA")
                    ?? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            }
            else
            {
                string home = Environment.GetEnvironmentVariable("HOME")
                    ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                string sub = RuntimeInformation.IsOSPlatform(OSPlatform.OSX)
                    ? Path.Combine("Library", "Preferences")
                    : ".config";
                folder = JoinPath(session, home, sub);
            }

            return ResolveProviderPath(session, JoinPath(session, folder, "posh-ibwapi.json"));
        }

        private static string JoinPath(SessionState session, string parent, string child)
        {
            if (session != null && parent.IndexOf(':') > 0)
            {
                // A PowerShell drive path such as TestDrive:\ joins like Join-Path.
                return session.Path.Combine(parent, child);
            }

            return Path.Combine(parent, child);
        }

        private static string ResolveProviderPath(SessionState session, string path)
        {
            if (session == null)
            {
                return path;
            }

            try
            {
                return session.Path.GetUnresolvedProviderPathFromPSPath(path);
            }
            catch (Exception e) when (e is PSInvalidOperationException
                || e is ProviderNotFoundException
                || e is System.Management.Automation.DriveNotFoundException
                || e is NotSupportedException)
            {
                return path;
            }
        }
    }
}
