using System;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Security;

namespace PoshIBWAPI.Config.Native
{
    /// <summary>
    /// Runs SecretManagement cmdlets for the core (<c>ib_host_vault</c>). The
    /// core calls back only while one of its functions runs, on the calling
    /// thread, so the callback uses the PowerShell session of the cmdlet (or
    /// the importing module) that made that call.
    /// </summary>
    internal static unsafe class HostVault
    {
        // Kept in static fields so the delegate and the struct the core
        // points at outlive every store.
        private static readonly IbHostVaultCallback Callback = OnCall;
        private static readonly IntPtr Table = CreateTable();

        [ThreadStatic]
        private static CommandInvocationIntrinsics _session;

        /// <summary>The <c>ib_host_vault*</c> handed to <c>ib_store_open</c>.</summary>
        internal static IntPtr Pointer => Table;

        /// <summary>
        /// Makes <paramref name="session"/> the one that runs vault cmdlets on
        /// this thread until the returned scope is disposed.
        /// </summary>
        internal static IDisposable Use(CommandInvocationIntrinsics session)
        {
            CommandInvocationIntrinsics previous = _session;
            _session = session;
            return new Restore(previous);
        }

        private static IntPtr CreateTable()
        {
            IntPtr table = Marshal.AllocHGlobal(sizeof(IbHostVault));
            *(IbHostVault*)table = new IbHostVault
            {
                Call = Marshal.GetFunctionPointerForDelegate(Callback),
                Context = IntPtr.Zero,
            };
            return table;
        }

        private static void OnCall(
            IntPtr context, uint op, IbStr vault, IbStr arg1, IbStr arg2, IntPtr reply)
        {
            // Nothing may unwind into native code.
            try
            {
                Dispatch((HostVaultOp)op, Utf8.Read(vault), arg1, arg2, reply);
            }
            catch (Exception e)
            {
                Fail(reply, HostFailure.Failed, e.Message);
            }
        }

        private static void Dispatch(
            HostVaultOp op, string vault, IbStr arg1, IbStr arg2, IntPtr reply)
        {
            if (_session == null)
            {
                Fail(
                    reply,
                    HostFailure.Failed,
                    "no PowerShell session is available to run SecretManagement");
                return;
            }

            object[] args = op == HostVaultOp.Unlock
                ? new object[] { vault, Utf8.ReadSecure(arg1), null }
                : new object[] { vault, Utf8.Read(arg1), Utf8.Read(arg2) };
            Collection<PSObject> results = _session.InvokeScript(
                SecretManagementScripts.For(op), true, PipelineResultTypes.None, null, args);
            // InvokeScript unrolls the answer array into the result collection.
            Report(results.Select(r => r?.BaseObject).ToArray(), reply);
        }

        /// <summary>Passes a script's answer (ok, kind, message, items...) to the core.</summary>
        private static void Report(object[] answer, IntPtr reply)
        {
            if (answer.Length < 3)
            {
                Fail(reply, HostFailure.Failed, "the SecretManagement call gave no answer");
                return;
            }

            if (!(answer[0] is bool ok) || !ok)
            {
                Fail(reply, (HostFailure)Convert.ToUInt32(answer[1]), Convert.ToString(answer[2]));
                return;
            }

            foreach (object item in answer.Skip(3))
            {
                Add(reply, Convert.ToString(item));
            }
        }

        private static void Add(IntPtr reply, string item)
        {
            using (PinnedUtf8 text = PinnedUtf8.From(item))
            {
                NativeMethods.ib_host_reply_add(reply, text.Str);
            }
        }

        private static void Fail(IntPtr reply, HostFailure kind, string message)
        {
            using (PinnedUtf8 text = PinnedUtf8.From(message ?? string.Empty))
            {
                NativeMethods.ib_host_reply_fail(reply, (uint)kind, text.Str);
            }
        }

        private sealed class Restore : IDisposable
        {
            private readonly CommandInvocationIntrinsics _previous;

            public Restore(CommandInvocationIntrinsics previous)
            {
                _previous = previous;
            }

            public void Dispose()
            {
                _session = _previous;
            }
        }
    }

    /// <summary>The operations of <c>ib_host_vault_fn</c> (docs/ABI.md).</summary>
    internal enum HostVaultOp : uint
    {
        Available = 1,
        Unlock = 2,
        Test = 3,
        List = 4,
        Read = 5,
        Write = 6,
        Remove = 7,
        Describe = 8,
    }

    /// <summary>The failure kinds of <c>ib_host_reply_fail</c>.</summary>
    internal enum HostFailure : uint
    {
        Failed = 1,
        PasswordRequired = 2,
        NotFound = 3,
        NotInstalled = 4,
    }
}
