// Types for the SecretManagement test stand-in, compiled once per process by
// Add-Type from Microsoft.PowerShell.SecretManagement.psm1. Callers of the real
// module name these types in full, so the public ones keep the real namespace.

using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Threading;

namespace Microsoft.PowerShell.SecretManagement
{
    /// <summary>Kinds of value a vault can store.</summary>
    public enum SecretType
    {
        Unknown = 0,
        ByteArray = 1,
        String = 2,
        SecureString = 3,
        PSCredential = 4,
        Hashtable = 5,
    }

    /// <summary>What a vault lists about one secret (never its value).</summary>
    public sealed class SecretInformation
    {
        public SecretInformation(string name, SecretType type, string vaultName)
            : this(name, type, vaultName, (ReadOnlyDictionary<string, object>)null)
        {
        }

        public SecretInformation(
            string name,
            SecretType type,
            string vaultName,
            ReadOnlyDictionary<string, object> metadata)
        {
            Name = name;
            Type = type;
            VaultName = vaultName;
            Metadata = metadata;
        }

        public SecretInformation(
            string name,
            SecretType type,
            string vaultName,
            Hashtable metadata)
            : this(name, type, vaultName, ToReadOnly(metadata))
        {
        }

        public string Name { get; }

        public SecretType Type { get; }

        public string VaultName { get; }

        /// <summary>Null when the vault gave none.</summary>
        public ReadOnlyDictionary<string, object> Metadata { get; }

        private static ReadOnlyDictionary<string, object> ToReadOnly(Hashtable metadata)
        {
            if (metadata == null)
            {
                return null;
            }

            var copy = new Dictionary<string, object>();
            foreach (DictionaryEntry entry in metadata)
            {
                copy[entry.Key.ToString()] = entry.Value;
            }

            return new ReadOnlyDictionary<string, object>(copy);
        }
    }

    /// <summary>One registered vault, as Get-SecretVault reports it.</summary>
    public sealed class SecretVaultInfo
    {
        // Public (the real one is internal) so the stand-in script can build it.
        public SecretVaultInfo(
            string name,
            string moduleName,
            string modulePath,
            string description,
            IDictionary vaultParameters,
            bool isDefault)
        {
            Name = name;
            ModuleName = moduleName;
            ModulePath = modulePath;
            Description = description ?? string.Empty;
            IsDefault = isDefault;

            var parameters = new Dictionary<string, object>();
            if (vaultParameters != null)
            {
                foreach (DictionaryEntry entry in vaultParameters)
                {
                    parameters[entry.Key.ToString()] = entry.Value;
                }
            }

            VaultParameters = new ReadOnlyDictionary<string, object>(parameters);
        }

        public string Name { get; }

        public string ModuleName { get; }

        public string ModulePath { get; }

        public string Description { get; }

        public IReadOnlyDictionary<string, object> VaultParameters { get; }

        public bool IsDefault { get; }
    }

    /// <summary>A locked vault was asked for something that needs its password.</summary>
    public class PasswordRequiredException : InvalidOperationException
    {
        public PasswordRequiredException(string message)
            : base(message)
        {
        }
    }

    // Marker types, never run. PowerShell appends the command's implementing type to
    // an ErrorId to make FullyQualifiedErrorId; the stand-in's commands are functions,
    // so it hands PowerShell a CmdletInfo naming these types instead (see the psm1).
    public sealed class GetSecretCommand : PSCmdlet { }

    public sealed class GetSecretInfoCommand : PSCmdlet { }

    public sealed class SetSecretCommand : PSCmdlet { }

    public sealed class SetSecretInfoCommand : PSCmdlet { }

    public sealed class RemoveSecretCommand : PSCmdlet { }

    public sealed class UnlockSecretVaultCommand : PSCmdlet { }

    public sealed class TestSecretVaultCommand : PSCmdlet { }

    public sealed class GetSecretVaultCommand : PSCmdlet { }

    public sealed class RegisterSecretVaultCommand : PSCmdlet { }

    public sealed class UnregisterSecretVaultCommand : PSCmdlet { }

    public sealed class SetSecretVaultDefaultCommand : PSCmdlet { }
}

namespace SecretManagementStandIn
{
    /// <summary>
    /// Which stand-in vaults this process has unlocked. Static, like SecretStore's
    /// lock state: it outlives Import-Module -Force, and a new process starts locked.
    /// </summary>
    public static class UnlockState
    {
        // Key: storage folder + vault name; value: the password that unlocked it,
        // so changing a vault's password re-locks it.
        private static readonly ConcurrentDictionary<string, string> Unlocked =
            new ConcurrentDictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        public static void Unlock(string key, string password)
        {
            Unlocked[key] = password;
        }

        public static void Lock(string key)
        {
            Unlocked.TryRemove(key, out _);
        }

        public static bool IsUnlockedWith(string key, string password)
        {
            return Unlocked.TryGetValue(key, out string known)
                && string.Equals(known, password, StringComparison.Ordinal);
        }
    }

    // The two helpers below catch exceptions in C# on purpose: an exception
    // caught by a PowerShell try/catch still lands in the caller's $Error and
    // -ErrorVariable, which a stand-in must not litter.

    /// <summary>
    /// An exclusive lock on a file, shared between processes (.NET maps
    /// FileShare.None to flock on Unix). Dispose to release.
    /// </summary>
    public static class FileLock
    {
        /// <summary>Waits up to <paramref name="timeoutMs"/> for the lock.</summary>
        /// <exception cref="TimeoutException">Another process kept it.</exception>
        public static IDisposable Acquire(string path, int timeoutMs)
        {
            var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
            while (true)
            {
                try
                {
                    return new FileStream(
                        path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(10);
                }
            }
        }
    }

    /// <summary>Wildcard patterns checked without throwing.</summary>
    public static class Wildcard
    {
        /// <summary>
        /// Null when <paramref name="pattern"/> is a valid WildcardPattern,
        /// else the exception matching it would raise (e.g. an unbalanced '[').
        /// </summary>
        public static Exception Check(string pattern)
        {
            try
            {
                new WildcardPattern(pattern, WildcardOptions.IgnoreCase).IsMatch(string.Empty);
                return null;
            }
            catch (WildcardPatternException e)
            {
                return e;
            }
        }
    }
}
