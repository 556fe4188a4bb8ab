using System;
using System.Runtime.InteropServices;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// The raw exports of the native core, named exactly as in
    /// include/ibwapi_config.h so that one grep crosses both layers.
    /// Nothing here checks results: <see cref="NativeStore"/> does.
    /// </summary>
    internal static unsafe class NativeMethods
    {
        /// <summary>The library name that NativeLibraryLoader resolves.</summary>
        internal const string LibraryName = "ibwapi_config";

        private const CallingConvention Cdecl = CallingConvention.Cdecl;

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_set_log_callback(
            IntPtr callback, IntPtr context, uint maxLevel);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_open(
            IbOpenOptions* options, out StoreHandle store);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern void ib_store_free(IntPtr store);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_kind(StoreHandle store, out uint kind);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_get(
            StoreHandle store, IbStr name, out ProfileListHandle list);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_list(
            StoreHandle store, out ProfileListHandle list);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_set(StoreHandle store, IbProfileEdit* edit);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_remove(StoreHandle store, IbStr name);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_remove_all(StoreHandle store);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_refresh(StoreHandle store, out byte reloaded);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_store_migrate(
            StoreHandle store, IbMigration* migration, out ProfileListHandle list);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern UIntPtr ib_profile_list_len(ProfileListHandle list);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_profile_list_entry(
            ProfileListHandle list, UIntPtr index, out IbProfileView view);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern void ib_profile_list_free(IntPtr list);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_host_reply_add(IntPtr reply, IbStr item);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_host_reply_fail(IntPtr reply, uint kind, IbStr message);

        [DllImport(LibraryName, CallingConvention = Cdecl)]
        internal static extern IbStatus ib_last_error_message(
            out byte* message, out UIntPtr length);
    }
}
