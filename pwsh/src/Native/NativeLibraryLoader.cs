using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// Finds the native core for this platform inside the module folder
    /// (<c>runtimes/&lt;rid&gt;/native/</c>) wherever the module was imported from.
    /// </summary>
    /// <remarks>
    /// On .NET (PowerShell 7) a DllImport resolver is registered through
    /// reflection, because netstandard2.0 does not expose NativeLibrary. On
    /// .NET Framework (Windows PowerShell 5.1) the DLL is loaded by full path
    /// first, after which DllImport finds it by name. Both happen once per
    /// process, behind a lock.
    /// </remarks>
    internal static class NativeLibraryLoader
    {
        private static readonly object Gate = new object();
        private static bool _registered;
        private static string _libraryPath;

        /// <summary>The platform name used for the runtimes folder, e.g. linux-x64.</summary>
        internal static string RuntimeIdentifier => OsPart() + "-" + ArchitecturePart();

        /// <summary>
        /// Makes DllImport of <see cref="NativeMethods.LibraryName"/> load the
        /// library in this module's folder. Safe to call many times.
        /// </summary>
        /// <exception cref="PlatformNotSupportedException">
        /// The module folder holds no native library for this platform.
        /// </exception>
        internal static void EnsureRegistered()
        {
            lock (Gate)
            {
                if (_registered)
                {
                    return;
                }

                _libraryPath = FindLibrary();
                if (!TryRegisterResolver())
                {
                    PreloadByPath(_libraryPath);
                }

                _registered = true;
            }
        }

        private static string FindLibrary()
        {
            string moduleDir = Path.GetDirectoryName(
                typeof(NativeLibraryLoader).Assembly.Location);
            string path = Path.Combine(
                moduleDir, "runtimes", RuntimeIdentifier, "native", LibraryFileName());

            if (!File.Exists(path))
            {
                throw new PlatformNotSupportedException(
                    $"PoshIBWAPI.Config has no native library for platform '{RuntimeIdentifier}'" +
                    $" (expected {path}). Build it for this platform as the README describes," +
                    " or install a release that includes it.");
            }

            return path;
        }

        private static bool TryRegisterResolver()
        {
            Type nativeLibrary = Type.GetType(
                "System.Runtime.InteropServices.NativeLibrary", throwOnError: false);
            Type resolverType = Type.GetType(
                "System.Runtime.InteropServices.DllImportResolver", throwOnError: false);
            if (nativeLibrary == null || resolverType == null)
            {
                return false;
            }

            MethodInfo resolve = typeof(NativeLibraryLoader).GetMethod(
                nameof(Resolve), BindingFlags.NonPublic | BindingFlags.Static);
            Delegate resolver = Delegate.CreateDelegate(resolverType, resolve);
            MethodInfo setResolver = nativeLibrary.GetMethod("SetDllImportResolver");
            setResolver.Invoke(
                null, new object[] { typeof(NativeLibraryLoader).Assembly, resolver });
            return true;
        }

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
        {
            if (name != NativeMethods.LibraryName)
            {
                return IntPtr.Zero;
            }

            Type nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary");
            MethodInfo load = nativeLibrary.GetMethod("Load", new[] { typeof(string) });
            return (IntPtr)load.Invoke(null, new object[] { _libraryPath });
        }

        private static void PreloadByPath(string path)
        {
            if (LoadLibraryW(path) == IntPtr.Zero)
            {
                throw new DllNotFoundException(
                    $"Could not load {path} (Windows error {Marshal.GetLastWin32Error()}).");
            }
        }

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr LoadLibraryW(string path);

        private static string LibraryFileName()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return NativeMethods.LibraryName + ".dll";
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
            {
                return "lib" + NativeMethods.LibraryName + ".dylib";
            }

            return "lib" + NativeMethods.LibraryName + ".so";
        }

        private static string OsPart()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return "win";
            }

            return RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx" : "linux";
        }

        private static string ArchitecturePart()
        {
            switch (RuntimeInformation.ProcessArchitecture)
            {
                case Architecture.X64:
                    return "x64";
                case Architecture.X86:
                    return "x86";
                case Architecture.Arm64:
                    return "arm64";
                case Architecture.Arm:
                    return "arm";
                default:
                    return RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            }
        }
    }
}
