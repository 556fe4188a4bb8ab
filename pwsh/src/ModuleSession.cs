using System;
using System.Collections.Generic;
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
        /// earlier one. Called by the module's .psm1 at import; returns what the
        /// core reported (warnings, errors, verbose text) for the importer's streams.
        /// </summary>
        /// <param name="sessionState">The importing session, used to resolve
        /// PowerShell paths such as <c>TestDrive:\</c> in HOME or LOCALAPPDATA.</param>
        public static IReadOnlyList<LogRecord> Open(SessionState sessionState)
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

        /// <summary>Frees the calling runspace's store; the module's OnRemove calls it.</summary>
        public static void Close()
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
        /// The calling runspace's store, opened now when the module's .psm1 did
        /// not run (the DLL imported on its own); then <paramref name="openRecords"/>
        /// holds what opening reported.
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
