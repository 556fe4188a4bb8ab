namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// Status codes returned by the native core (<c>ib_status</c> in
    /// include/ibwapi_config.h). Values are never renumbered.
    /// </summary>
    internal enum IbStatus : uint
    {
        Ok = 0,
        NullArgument = 1001,
        InvalidUtf8 = 1002,
        InvalidArgument = 1003,
        InvalidHandle = 1004,
        InvalidVersion = 1005,
        ReservedName = 1006,
        ProfileNotFound = 2001,
        NoCurrentProfile = 2002,
        MissingField = 2003,
        ReadOnlyStore = 2004,
        MigrationConflict = 2005,
        FileIo = 3001,
        VaultUnavailable = 4001,
        VaultLocked = 4002,
        VaultWriteFailed = 4003,
        VaultNameRefused = 4004,
        VaultReadOnly = 4005,
        VaultNameBlocked = 4006,
        Panic = 9001,
        Internal = 9002,
    }

    /// <summary>Where the profiles of a store live (<c>ib_store_kind</c>).</summary>
    public enum StoreKind : uint
    {
        /// <summary>The read-only profile built from IBWAPI_* variables.</summary>
        Environment = 0,

        /// <summary>The JSON config file posh-ibwapi.json.</summary>
        File = 1,

        /// <summary>One secret per profile in a vault.</summary>
        Vault = 2,
    }
}
