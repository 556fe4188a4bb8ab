using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace IBBench
{
    /// <summary>
    /// The few libkeyutils calls the benchmark needs to seed the kernel
    /// keyring with user keys and to remove them again. Keys go into the
    /// user keyring (@u) with the rights the module gives its own keys.
    /// </summary>
    public static class KernelKeyring
    {
        private const string Library = "libkeyutils.so.1";
        private const int UserKeyring = -4;

        /// <summary>Possessor and owning user: every right; group and others: none.</summary>
        private const uint Permissions = 0x3f3f0000;

        [DllImport(Library, SetLastError = true)]
        private static extern int add_key(
            [MarshalAs(UnmanagedType.LPUTF8Str)] string type,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string description,
            byte[] payload, UIntPtr length, int keyring);

        [DllImport(Library, SetLastError = true)]
        private static extern long keyctl_setperm(int key, uint permissions);

        [DllImport(Library, SetLastError = true)]
        private static extern long keyctl_invalidate(int key);

        [DllImport(Library, SetLastError = true)]
        private static extern long keyctl_read_alloc(int key, out IntPtr buffer);

        [DllImport(Library, SetLastError = true)]
        private static extern long keyctl_describe_alloc(int key, out IntPtr buffer);

        [DllImport("libc")]
        private static extern void free(IntPtr pointer);

        /// <summary>Adds (or replaces) a user key in @u and returns its id.</summary>
        public static int Add(string description, string value)
        {
            byte[] payload = Encoding.UTF8.GetBytes(value);
            int id = add_key("user", description, payload, (UIntPtr)payload.Length, UserKeyring);
            if (id < 0)
            {
                throw new Win32Exception(Marshal.GetLastWin32Error(), "add_key " + description);
            }

            if (keyctl_setperm(id, Permissions) < 0)
            {
                throw new Win32Exception(Marshal.GetLastWin32Error(), "setperm " + description);
            }

            return id;
        }

        /// <summary>Invalidates every key in @u whose description starts with prefix.</summary>
        public static int RemoveByPrefix(string prefix)
        {
            int removed = 0;
            foreach (int id in LinkedKeys())
            {
                string description = Describe(id);
                if (description != null && description.StartsWith(prefix, StringComparison.Ordinal)
                    && keyctl_invalidate(id) == 0)
                {
                    removed++;
                }
            }

            return removed;
        }

        private static List<int> LinkedKeys()
        {
            var ids = new List<int>();
            long length = keyctl_read_alloc(UserKeyring, out IntPtr buffer);
            if (length < 0)
            {
                return ids;
            }

            for (int offset = 0; offset + 4 <= length; offset += 4)
            {
                ids.Add(Marshal.ReadInt32(buffer, offset));
            }

            free(buffer);
            return ids;
        }

        /// <summary>The description of a key ("type;uid;gid;perm;description"), or null.</summary>
        private static string Describe(int id)
        {
            if (keyctl_describe_alloc(id, out IntPtr buffer) < 0)
            {
                return null;
            }

            string text = Marshal.PtrToStringUTF8(buffer);
            free(buffer);
            string[] parts = text.Split(new[] { ';' }, 5);
            return parts.Length == 5 ? parts[4] : null;
        }
    }
}
