using System;
using System.Runtime.InteropServices;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// A borrowed UTF-8 string (<c>ib_str</c>). A null pointer means "absent";
    /// an empty string has a non-null pointer and a zero length.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IbStr
    {
        public byte* Ptr;
        public UIntPtr Len;

        public static IbStr Absent => default;

        public bool IsAbsent => Ptr == null;

        public int Length => checked((int)Len.ToUInt64());
    }

    /// <summary>One name/value pair handed to <c>ib_store_open</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IbSetting
    {
        public IbStr Name;
        public IbStr Value;
    }

    /// <summary>Options of <c>ib_store_open</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IbOpenOptions
    {
        public IbSetting* Settings;
        public UIntPtr SettingsLen;
        public IntPtr Collate;
        public IntPtr CollateContext;
        public IntPtr HostVault;
    }

    /// <summary>
    /// The change Set-IBConfig asks for (<c>ib_profile_edit</c>). Absent
    /// strings and -1 flags keep what is saved.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IbProfileEdit
    {
        public IbStr ProfileName;
        public IbStr WapiHost;
        public IbStr WapiVersion;
        public IbStr Username;
        public IbStr Password;
        public sbyte SkipCertificateCheck;
        public sbyte NoSession;
        public IbStr NewName;
        public byte NoSwitchProfile;
    }

    /// <summary>
    /// One profile of a native profile list (<c>ib_profile_view</c>); every
    /// pointer is borrowed from the list and dies with it.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IbProfileView
    {
        public IbStr ProfileName;
        public IbStr WapiHost;
        public IbStr WapiVersion;
        public IbStr Username;
        public IbStr Password;
        public byte SkipCertificateCheck;
        public byte NoSession;
        public byte IsCurrent;
    }

    /// <summary>What Copy-IBConfig and Move-IBConfig ask for (<c>ib_migration</c>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IbMigration
    {
        public uint Destination;
        public IbStr* Names;
        public UIntPtr NamesLen;
        public byte Move;
        public byte Overwrite;
        public byte DryRun;
    }

    /// <summary>The SecretManagement callback table (<c>ib_host_vault</c>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IbHostVault
    {
        public IntPtr Call;
        public IntPtr Context;
    }

    /// <summary>
    /// Runs one SecretManagement operation for the core (<c>ib_host_vault_fn</c>).
    /// </summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void IbHostVaultCallback(
        IntPtr context, uint op, IbStr vault, IbStr arg1, IbStr arg2, IntPtr reply);

    /// <summary>Receives the core's log records (<c>ib_log_fn</c>).</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal unsafe delegate void IbLogCallback(
        IntPtr context, uint level, byte* message, UIntPtr length);

    /// <summary>Orders two profile names for the core (<c>ib_collate_fn</c>).</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int IbCollateCallback(IntPtr context, IbStr left, IbStr right);
}
