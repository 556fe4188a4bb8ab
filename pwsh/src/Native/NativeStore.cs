using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// The checked, managed face of one <c>ib_store</c>: every call turns a
    /// non-OK status into an <see cref="IBConfigException"/> carrying the
    /// core's message.
    /// </summary>
    internal sealed unsafe class NativeStore : IDisposable
    {
        /// <summary>The most characters a SecureString holds.</summary>
        private const int MaxSecureStringLength = 65536;

        private readonly StoreHandle _handle;

        private NativeStore(StoreHandle handle)
        {
            _handle = handle;
        }

        /// <summary>
        /// Gets or sets what the core said at import about the store it chose
        /// and why; each cmdlet repeats it on its verbose stream, because
        /// <c>Import-Module -Verbose</c> does not reach the import-time records.
        /// </summary>
        public string Choice { get; set; } = string.Empty;

        /// <summary>Gets where this store's profiles live.</summary>
        public StoreKind Kind
        {
            get
            {
                Check(NativeMethods.ib_store_kind(_handle, out uint kind));
                return (StoreKind)kind;
            }
        }

        /// <summary>
        /// Lets the core choose and load the store from <paramref name="settings"/>
        /// (IBWAPI_* values and config_path).
        /// </summary>
        public static NativeStore Open(IEnumerable<KeyValuePair<string, string>> settings)
        {
            var pinned = new List<PinnedUtf8>();
            try
            {
                var pairs = new List<IbSetting>();
                foreach (KeyValuePair<string, string> pair in settings)
                {
                    pairs.Add(new IbSetting
                    {
                        Name = Pin(pinned, pair.Key),
                        Value = Pin(pinned, pair.Value),
                    });
                }

                return OpenWith(pairs.ToArray());
            }
            finally
            {
                pinned.ForEach(p => p.Dispose());
            }
        }

        /// <summary>The current profile, or null when there is none.</summary>
        public ProfileRecord GetCurrent() => Get(null);

        /// <summary>The named profile (any letter case), or null when it does not exist.</summary>
        public ProfileRecord Get(string name)
        {
            using (PinnedUtf8 nameUtf8 = PinnedUtf8.From(name))
            {
                Check(NativeMethods.ib_store_get(
                    _handle, nameUtf8.Str, out ProfileListHandle list));
                using (list)
                {
                    List<ProfileRecord> records = ReadList(list);
                    return records.Count == 0 ? null : records[0];
                }
            }
        }

        /// <summary>Every profile, sorted by name the way Sort-Object sorts.</summary>
        public List<ProfileRecord> List()
        {
            Check(NativeMethods.ib_store_list(_handle, out ProfileListHandle list));
            using (list)
            {
                return ReadList(list);
            }
        }

        /// <summary>Applies and saves one Set-IBConfig change.</summary>
        public void Set(ProfileChange change)
        {
            using (PinnedUtf8 name = PinnedUtf8.From(change.ProfileName))
            using (PinnedUtf8 host = PinnedUtf8.From(change.WAPIHost))
            using (PinnedUtf8 version = PinnedUtf8.From(change.WAPIVersion))
            using (PinnedUtf8 user = PinnedUtf8.From(change.Credential?.UserName))
            using (PinnedUtf8 password = PasswordOf(change.Credential))
            using (PinnedUtf8 newName = PinnedUtf8.From(change.NewName))
            {
                var edit = new IbProfileEdit
                {
                    ProfileName = name.Str,
                    WapiHost = host.Str,
                    WapiVersion = version.Str,
                    Username = user.Str,
                    Password = password.Str,
                    SkipCertificateCheck = Flag(change.SkipCertificateCheck),
                    NoSession = Flag(change.NoSession),
                    NewName = newName.Str,
                    NoSwitchProfile = change.NoSwitchProfile ? (byte)1 : (byte)0,
                };
                Check(NativeMethods.ib_store_set(_handle, &edit));
            }
        }

        /// <summary>Removes the named profile, or the current one when name is null.</summary>
        public void Remove(string name)
        {
            using (PinnedUtf8 nameUtf8 = PinnedUtf8.From(name))
            {
                Check(NativeMethods.ib_store_remove(_handle, nameUtf8.Str));
            }
        }

        /// <summary>
        /// Reloads the profiles when another process changed the store since
        /// this one last read it (a cheap check; off with IBWAPI_CONFIG_SYNC=off).
        /// </summary>
        public bool Refresh()
        {
            Check(NativeMethods.ib_store_refresh(_handle, out byte reloaded));
            return reloaded != 0;
        }

        /// <summary>
        /// Copies or moves profiles between the config file and the vault;
        /// returns the profiles migrated, or that would be with dryRun.
        /// </summary>
        public List<ProfileRecord> Migrate(MigrationRequest request)
        {
            var pinned = new List<PinnedUtf8>();
            try
            {
                IbStr[] names = request.ProfileNames?.Select(n => Pin(pinned, n)).ToArray();
                return MigrateWith(request, names);
            }
            finally
            {
                pinned.ForEach(p => p.Dispose());
            }
        }

        /// <summary>Removes every profile and the store's file or secrets.</summary>
        public void RemoveAll() => Check(NativeMethods.ib_store_remove_all(_handle));

        /// <summary>Frees the native store.</summary>
        public void Dispose() => _handle.Dispose();

        private List<ProfileRecord> MigrateWith(MigrationRequest request, IbStr[] names)
        {
            fixed (IbStr* first = names)
            {
                var migration = new IbMigration
                {
                    Destination = (uint)request.Destination,
                    Names = names == null ? null : first,
                    NamesLen = (UIntPtr)(names?.Length ?? 0),
                    Move = request.Move ? (byte)1 : (byte)0,
                    Overwrite = request.Overwrite ? (byte)1 : (byte)0,
                    DryRun = request.DryRun ? (byte)1 : (byte)0,
                };
                Check(NativeMethods.ib_store_migrate(
                    _handle, &migration, out ProfileListHandle list));
                using (list)
                {
                    return ReadList(list);
                }
            }
        }

        private static NativeStore OpenWith(IbSetting[] pairs)
        {
            fixed (IbSetting* first = pairs)
            {
                var options = new IbOpenOptions
                {
                    Settings = first,
                    SettingsLen = (UIntPtr)pairs.Length,
                    Collate = NativeLog.CollatePointer,
                    HostVault = HostVault.Pointer,
                };
                Check(NativeMethods.ib_store_open(&options, out StoreHandle handle));
                return new NativeStore(handle);
            }
        }

        private static IbStr Pin(List<PinnedUtf8> owners, string text)
        {
            PinnedUtf8 copy = PinnedUtf8.From(text);
            owners.Add(copy);
            return copy.Str;
        }

        private static PinnedUtf8 PasswordOf(PSCredential credential)
        {
            return credential == null
                ? PinnedUtf8.From((string)null)
                : PinnedUtf8.From(credential.Password);
        }

        private static sbyte Flag(bool? value)
        {
            if (value == null)
            {
                return -1;
            }

            return value.Value ? (sbyte)1 : (sbyte)0;
        }

        private static List<ProfileRecord> ReadList(ProfileListHandle list)
        {
            int count = checked((int)NativeMethods.ib_profile_list_len(list).ToUInt64());
            var records = new List<ProfileRecord>(count);
            for (int i = 0; i < count; i++)
            {
                Check(NativeMethods.ib_profile_list_entry(
                    list, (UIntPtr)i, out IbProfileView view));
                records.Add(ToRecord(view));
            }

            return records;
        }

        private static ProfileRecord ToRecord(IbProfileView view)
        {
            return new ProfileRecord
            {
                ProfileName = Utf8.Read(view.ProfileName),
                WAPIHost = Utf8.Read(view.WapiHost),
                WAPIVersion = Utf8.Read(view.WapiVersion),
                Credential = ToCredential(view),
                SkipCertificateCheck = view.SkipCertificateCheck != 0,
                NoSession = view.NoSession != 0,
                IsCurrent = view.IsCurrent != 0,
            };
        }

        private static PSCredential ToCredential(IbProfileView view)
        {
            if (view.Username.IsAbsent || view.Password.IsAbsent || view.Username.Length == 0)
            {
                return null;
            }

            if (Utf8.CharCount(view.Password) > MaxSecureStringLength)
            {
                // A SecureString cannot hold it, so no PSCredential can either.
                NativeLog.Warn(
                    $"Profile '{Utf8.Read(view.ProfileName)}': its password is longer than the"
                    + $" {MaxSecureStringLength} characters a PowerShell credential can hold;"
                    + " the profile is shown without a credential. Set a new one with"
                    + " Set-IBConfig -Credential.");
                return null;
            }

            return new PSCredential(Utf8.Read(view.Username), Utf8.ReadSecure(view.Password));
        }

        private static void Check(IbStatus status)
        {
            if (status != IbStatus.Ok)
            {
                throw new IBConfigException(status, LastErrorMessage(status));
            }
        }

        private static string LastErrorMessage(IbStatus status)
        {
            if (NativeMethods.ib_last_error_message(
                    out byte* text, out UIntPtr length) != IbStatus.Ok
                || text == null)
            {
                return $"The native core failed with status {status} and gave no message.";
            }

            return Utf8.Read(text, checked((int)length.ToUInt64()));
        }
    }
}
