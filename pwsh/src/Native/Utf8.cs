using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// A UTF-8 copy of a managed string, pinned so that the core can borrow it
    /// for one call. Dispose wipes the bytes: passwords go through here too.
    /// </summary>
    internal sealed unsafe class PinnedUtf8 : IDisposable
    {
        private readonly byte[] _bytes;
        private readonly int _length;
        private GCHandle _pin;

        private PinnedUtf8(int length)
        {
            // One spare byte so that an empty string still has an address.
            _bytes = new byte[length + 1];
            _length = length;
            _pin = GCHandle.Alloc(_bytes, GCHandleType.Pinned);
        }

        private PinnedUtf8()
        {
        }

        /// <summary>The borrowed view handed to the core; absent for a null string.</summary>
        public IbStr Str
        {
            get
            {
                if (_bytes == null)
                {
                    return IbStr.Absent;
                }

                return new IbStr
                {
                    Ptr = (byte*)_pin.AddrOfPinnedObject(),
                    Len = (UIntPtr)_length,
                };
            }
        }

        /// <summary>Copies <paramref name="text"/>; null gives an absent string.</summary>
        public static PinnedUtf8 From(string text)
        {
            if (text == null)
            {
                return new PinnedUtf8();
            }

            var copy = new PinnedUtf8(Encoding.UTF8.GetByteCount(text));
            fixed (char* chars = text)
            {
                Encoding.UTF8.GetBytes(chars, text.Length, copy.Ptr, copy._length);
            }

            return copy;
        }

        /// <summary>
        /// Copies a password without making a managed string of it: the
        /// unmanaged UTF-16 copy is zeroed and freed before this returns.
        /// </summary>
        public static PinnedUtf8 From(SecureString secret)
        {
            if (secret == null)
            {
                return From(string.Empty);
            }

            IntPtr unicode = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                char* chars = (char*)unicode;
                int count = Encoding.UTF8.GetByteCount(chars, secret.Length);
                var copy = new PinnedUtf8(count);
                Encoding.UTF8.GetBytes(chars, secret.Length, copy.Ptr, count);
                return copy;
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(unicode);
            }
        }

        private byte* Ptr => (byte*)_pin.AddrOfPinnedObject();

        /// <summary>Wipes and unpins the copy.</summary>
        public void Dispose()
        {
            if (_bytes != null)
            {
                Array.Clear(_bytes, 0, _bytes.Length);
            }

            if (_pin.IsAllocated)
            {
                _pin.Free();
            }
        }
    }

    /// <summary>Reads strings the core lends us.</summary>
    internal static unsafe class Utf8
    {
        /// <summary>Decodes a borrowed string; an absent one gives null.</summary>
        public static string Read(IbStr value)
        {
            if (value.IsAbsent)
            {
                return null;
            }

            return Read(value.Ptr, value.Length);
        }

        /// <summary>Decodes <paramref name="length"/> bytes at <paramref name="bytes"/>.</summary>
        public static string Read(byte* bytes, int length)
        {
            return length == 0 ? string.Empty : Encoding.UTF8.GetString(bytes, length);
        }

        /// <summary>How many UTF-16 characters a borrowed string decodes to.</summary>
        public static int CharCount(IbStr value)
        {
            return Encoding.UTF8.GetCharCount(value.Ptr, value.Length);
        }

        /// <summary>
        /// Decodes a borrowed password straight into a read-only SecureString;
        /// the intermediate characters are wiped.
        /// </summary>
        public static SecureString ReadSecure(IbStr value)
        {
            int count = Encoding.UTF8.GetCharCount(value.Ptr, value.Length);
            var chars = new char[count + 1];
            GCHandle pin = GCHandle.Alloc(chars, GCHandleType.Pinned);
            try
            {
                char* first = (char*)pin.AddrOfPinnedObject();
                Encoding.UTF8.GetChars(value.Ptr, value.Length, first, count);
                var secret = new SecureString(first, count);
                secret.MakeReadOnly();
                return secret;
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
                pin.Free();
            }
        }
    }
}
