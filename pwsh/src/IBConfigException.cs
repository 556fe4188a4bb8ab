using System;
using System.Management.Automation;
using PoshIBWAPI.Config.Native;

namespace PoshIBWAPI.Config
{
    /// <summary>
    /// A failure reported by the native core, with the reason a script can
    /// act on and the PowerShell error category that fits it.
    /// </summary>
    public sealed class IBConfigException : Exception
    {
        internal IBConfigException(IbStatus status, string message)
            : base(message)
        {
            Status = status;
        }

        /// <summary>Gets the core's status code (see docs/ABI.md).</summary>
        internal IbStatus Status { get; }

        /// <summary>Gets a stable PascalCase reason, the first part of the error ID.</summary>
        public string Reason => Status switch
        {
            IbStatus.InvalidVersion => "InvalidWAPIVersion",
            IbStatus.ReservedName => "ReservedProfileName",
            IbStatus.ProfileNotFound => "ProfileNotFound",
            IbStatus.NoCurrentProfile => "NoCurrentProfile",
            IbStatus.MissingField => "MissingProfileField",
            IbStatus.ReadOnlyStore => "EnvironmentProfileActive",
            IbStatus.MigrationConflict => "ProfileExistsInDestination",
            IbStatus.FileIo => "ConfigFileError",
            IbStatus.VaultUnavailable => "VaultUnavailable",
            IbStatus.VaultLocked => "VaultLocked",
            IbStatus.VaultWriteFailed => "VaultWriteFailed",
            IbStatus.VaultNameRefused => "VaultSecretNameRefused",
            IbStatus.VaultReadOnly => "VaultReadOnly",
            IbStatus.VaultNameBlocked => "VaultSecretNameBlocked",
            IbStatus.Panic => "NativeCorePanic",
            IbStatus.Internal => "NativeCoreInternalError",
            _ => "InvalidArgument",
        };

        /// <summary>Gets the PowerShell category that fits the failure.</summary>
        public ErrorCategory Category => Status switch
        {
            IbStatus.ProfileNotFound => ErrorCategory.ObjectNotFound,
            IbStatus.ReadOnlyStore => ErrorCategory.InvalidOperation,
            IbStatus.MigrationConflict => ErrorCategory.ResourceExists,
            IbStatus.FileIo => ErrorCategory.WriteError,
            IbStatus.VaultUnavailable => ErrorCategory.ResourceUnavailable,
            IbStatus.VaultLocked => ErrorCategory.AuthenticationError,
            IbStatus.VaultWriteFailed => ErrorCategory.WriteError,
            IbStatus.VaultNameRefused => ErrorCategory.InvalidArgument,
            IbStatus.VaultReadOnly => ErrorCategory.PermissionDenied,
            IbStatus.VaultNameBlocked => ErrorCategory.ResourceExists,
            IbStatus.Panic => ErrorCategory.NotSpecified,
            IbStatus.Internal => ErrorCategory.NotSpecified,
            _ => ErrorCategory.InvalidArgument,
        };
    }
}
