using System;
using System.Collections.Generic;
using System.Management.Automation;
using PoshIBWAPI.Config.Native;

namespace PoshIBWAPI.Config.Cmdlets
{
    /// <summary>
    /// What the three IBConfig cmdlets share: the runspace's store, and the
    /// core's log records replayed on this cmdlet's streams.
    /// </summary>
    public abstract class IBConfigCmdlet : PSCmdlet
    {
        private NativeStore _store;

        /// <summary>Gets the store chosen when the module was imported.</summary>
        internal NativeStore Store
        {
            get
            {
                if (_store == null)
                {
                    _store = ModuleSession.GetOrOpen(SessionState, out var openRecords);
                    WriteRecords(openRecords);
                }

                return _store;
            }
        }

        /// <summary>
        /// Picks up what other processes saved since this session last read
        /// the store, before the command uses it.
        /// </summary>
        protected override void BeginProcessing()
        {
            if (Store.Choice.Length > 0)
            {
                WriteVerbose(Store.Choice);
            }

            try
            {
                if (Call(() => Store.Refresh()))
                {
                    WriteVerbose("The profile store changed since it was last read; reloaded it.");
                }
            }
            catch (IBConfigException failure)
            {
                // A failed check must not stop a command that may still work.
                WriteWarning("Could not check the profile store for changes: " + failure.Message);
            }
        }

        /// <summary>Gets whether the read-only environment-variable profile is in use.</summary>
        internal bool UsesEnvironmentProfile => Call(() => Store.Kind) == StoreKind.Environment;

        /// <summary>
        /// Runs one call into the core and replays what it logged, even when
        /// it fails.
        /// </summary>
        internal T Call<T>(Func<T> call)
        {
            try
            {
                // A vault store may run SecretManagement cmdlets in this session.
                using (HostVault.Use(InvokeCommand))
                {
                    return call();
                }
            }
            finally
            {
                WriteRecords(NativeLog.Drain());
            }
        }

        /// <summary>Runs one call into the core that returns nothing.</summary>
        internal void Call(Action call)
        {
            Call(() =>
            {
                call();
                return true;
            });
        }

        /// <summary>Ends the command with the core's failure as a terminating error.</summary>
        internal void ThrowTerminating(IBConfigException failure, object target)
        {
            ThrowTerminatingError(ToErrorRecord(failure, target));
        }

        /// <summary>
        /// Turns a core failure into an ErrorRecord with a stable ID and category.
        /// </summary>
        internal static ErrorRecord ToErrorRecord(IBConfigException failure, object target)
        {
            return new ErrorRecord(failure, failure.Reason, failure.Category, target);
        }

        private void WriteRecords(IReadOnlyList<LogRecord> records)
        {
            foreach (LogRecord record in records)
            {
                WriteRecord(record);
            }
        }

        private void WriteRecord(LogRecord record)
        {
            switch (record.Level)
            {
                case LogLevel.Error:
                    WriteError(record.ToErrorRecord());
                    break;
                case LogLevel.Warning:
                    WriteWarning(record.Message);
                    break;
                case LogLevel.Info:
                    WriteVerbose(record.Message);
                    break;
                default:
                    WriteDebug(record.Message);
                    break;
            }
        }
    }
}
