using Microsoft.Win32.SafeHandles;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// Owns an <c>ib_store*</c>: the profiles the core loaded at import.
    /// Released with <c>ib_store_free</c>.
    /// </summary>
    internal sealed class StoreHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public StoreHandle()
            : base(ownsHandle: true)
        {
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ib_store_free(handle);
            return true;
        }
    }

    /// <summary>
    /// Owns an <c>ib_profile_list*</c> snapshot. Released with
    /// <c>ib_profile_list_free</c>, which also wipes the passwords it held.
    /// </summary>
    internal sealed class ProfileListHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public ProfileListHandle()
            : base(ownsHandle: true)
        {
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ib_profile_list_free(handle);
            return true;
        }
    }
}
