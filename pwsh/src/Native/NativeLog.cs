using System;
using System.Collections.Generic;
using System.Globalization;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>How loud a record of the core is (the <c>log</c> crate's levels).</summary>
    public enum LogLevel : uint
    {
        /// <summary>Becomes a non-terminating ErrorRecord.</summary>
        Error = 1,

        /// <summary>Becomes a PowerShell warning.</summary>
        Warning = 2,

        /// <summary>Becomes verbose output.</summary>
        Info = 3,

        /// <summary>Becomes debug output.</summary>
        Debug = 4,

        /// <summary>Becomes debug output.</summary>
        Trace = 5,
    }

    /// <summary>One message the core logged.</summary>
    public sealed class LogRecord
    {
        internal LogRecord(LogLevel level, string message)
        {
            Level = level;
            Message = message;
        }

        /// <summary>Gets how loud the record is.</summary>
        public LogLevel Level { get; }

        /// <summary>Gets the text; the core never puts a password in it.</summary>
        public string Message { get; }

        /// <summary>
        /// The ErrorRecord an error-level record becomes: the core reports at
        /// this level what failed while choosing the store (the module then
        /// uses the config file).
        /// </summary>
        public System.Management.Automation.ErrorRecord ToErrorRecord()
        {
            return new System.Management.Automation.ErrorRecord(
                new InvalidOperationException(Message),
                "ProfileStoreUnavailable",
                System.Management.Automation.ErrorCategory.ResourceUnavailable,
                null);
        }
    }

    /// <summary>
    /// Receives the core's log records. The core logs synchronously on the
    /// thread that called it, so records are queued per thread and the cmdlet
    /// that made the call drains them onto its own streams afterwards.
    /// </summary>
    internal static unsafe class NativeLog
    {
        [ThreadStatic]
        private static List<LogRecord> _pending;

        // Kept in a static field so the delegate outlives every native call.
        private static readonly IbLogCallback Callback = OnRecord;
        private static readonly IbCollateCallback Collation = Collate;

        /// <summary>The function pointer handed to the core for name ordering.</summary>
        internal static IntPtr CollatePointer { get; } =
            System.Runtime.InteropServices.Marshal.GetFunctionPointerForDelegate(Collation);

        /// <summary>Registers the callback with the core (once per process is enough).</summary>
        internal static void Install()
        {
            IntPtr pointer =
                System.Runtime.InteropServices.Marshal.GetFunctionPointerForDelegate(Callback);
            NativeMethods.ib_set_log_callback(pointer, IntPtr.Zero, (uint)LogLevel.Debug);
        }

        /// <summary>
        /// Queues a warning of the module's own, to be written with the core's
        /// records of the same call.
        /// </summary>
        internal static void Warn(string message)
        {
            (_pending ??= new List<LogRecord>()).Add(new LogRecord(LogLevel.Warning, message));
        }

        /// <summary>Returns and forgets the records this thread has received.</summary>
        internal static IReadOnlyList<LogRecord> Drain()
        {
            List<LogRecord> records = _pending;
            _pending = null;
            return (IReadOnlyList<LogRecord>)records ?? Array.Empty<LogRecord>();
        }

        private static void OnRecord(IntPtr context, uint level, byte* message, UIntPtr length)
        {
            // An exception must never unwind into native code.
            try
            {
                string text = Utf8.Read(message, checked((int)length.ToUInt64()));
                (_pending ??= new List<LogRecord>()).Add(new LogRecord((LogLevel)level, text));
            }
            catch
            {
            }
        }

        private static int Collate(IntPtr context, IbStr left, IbStr right)
        {
            try
            {
                // Sort-Object's default: the current culture, ignoring case.
                return CultureInfo.CurrentCulture.CompareInfo.Compare(
                    Utf8.Read(left), Utf8.Read(right), CompareOptions.IgnoreCase);
            }
            catch
            {
                return 0;
            }
        }
    }
}
