using System.Runtime;
using System.Runtime.CompilerServices;
using HekiGuest.Abi;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Vtl1Monitor;

// The monitor's service loop: return to VTL0, and on the next VTL1 entry either answer a VTL
// call (function id in VTL0's RDI, docs/vtl.md section 15) or refuse the VTL0 access that was
// intercepted. Nothing is allocated in the loop; an allocation after init stops the machine.
public static unsafe class Dispatcher
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_monitor_switch")]
    private static extern void Switch();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_monitor_frame_address")]
    private static extern ulong* FrameAddress();

    // Frame slots (asm/switch.s)
    private const int Rax = 0, Rcx = 1, Rdx = 2, Rsi = 6, Rdi = 7, R8 = 8;
    private const ulong GpVector = 13;

    private static bool s_endOfBoot, s_initAnswered;
    private static ulong s_denials, s_calls;

    public static void Serve(byte* assist)
    {
        ulong* f = FrameAddress();
        ulong heapAfterInit = Heap.BytesAllocated;
        // The answer to init: every register VTL0 gets back is the monitor's answer or zero.
        for (int i = 0; i < 16; i++) f[i] = 0;
        f[Rax] = MonitorStatus.Success;
        f[Rdx] = MonitorAbi.Version;
        s_initAnswered = true;
        for (;;)
        {
            Switch();
            uint reason = *(uint*)(assist + HvVpAssist.VtlEntryReasonOffset);
            if (reason == HvVpAssist.EntryReasonIntercept) Refuse(assist + HvVpAssist.InterceptMessageOffset);
            else if (reason == HvVpAssist.EntryReasonVtlCall) Answer(f);
            else MonitorMain.Stop("unexpected VTL1 entry reason", reason);
            if (Heap.BytesAllocated != heapAfterInit) MonitorMain.Stop("allocation after init, bytes", Heap.BytesAllocated - heapAfterInit);
        }
    }

    /// <summary>A policy refusal answered with MonitorStatus.Denied (its report line is the caller's).</summary>
    public static void CountDenial() => s_denials++;

    private static void Answer(ulong* f)
    {
        s_calls++;
        ulong id = f[Rdi], a0 = f[Rsi], a1 = f[Rdx], a2 = f[R8];
        ulong value = 0, value2 = 0;
        long status;
        switch (id)
        {
            case MonitorCall.Init:
                status = s_endOfBoot ? MonitorStatus.BootOnly : s_initAnswered ? MonitorStatus.AlreadyDone : MonitorStatus.Success;
                break;
            case MonitorCall.Version:
                status = MonitorStatus.Success;
                value = MonitorAbi.Version;
                value2 = s_denials;
                break;
            case MonitorCall.EndOfBoot:
                if (s_endOfBoot) status = MonitorStatus.BootOnly;
                else { s_endOfBoot = true; status = MonitorStatus.Success; Machine.Console.Line("end of boot: boot-only calls are refused from now on"); }
                break;
            case MonitorCall.DenialCount:
                status = MonitorStatus.Success;
                value = s_denials;
                break;
            case MonitorCall.Describe:
                status = Describe(a0, a1);
                break;
            case MonitorCall.LockRegisters:
                status = s_endOfBoot ? MonitorStatus.BootOnly : RegisterLock.Lock(a0, a1);
                break;
            case MonitorCall.ProtectMemory:
                status = s_endOfBoot ? MonitorStatus.BootOnly : MemoryPolicy.Protect(a0, a1, out value, out value2);
                break;
            case MonitorCall.MapPage:
                status = Vtl0PageTables.Map(a0, a1, a2, out value);
                break;
            case MonitorCall.UnmapPage:
                status = Vtl0PageTables.Unmap(a0, out value);
                break;
            case >= MonitorCall.WriteCr0 and <= MonitorCall.LoadLdt:
                status = PrivilegedWrites.Perform(id, a0, a1, s_endOfBoot);
                if (status == MonitorStatus.Denied) s_denials++;
                if (status != MonitorStatus.Success) InjectGp();
                break;
            case MonitorCall.HandOverSealed:
                status = s_endOfBoot ? MonitorStatus.BootOnly : SealedSection.HandOver(a0, a1, a2);
                if (status == MonitorStatus.Denied) s_denials++;
                break;
            default:
                status = MonitorStatus.UnknownCall;
                break;
        }
        f[Rax] = (ulong)status;
        f[Rcx] = 0;
        f[Rdx] = value;
        f[R8] = value2;
    }

    private static long Describe(ulong gpa, ulong length)
    {
        if (length < MonitorAbi.DescribeSize || (gpa & 7) != 0 || !Vtl0Memory.Contains(gpa, MonitorAbi.DescribeSize))
            return MonitorStatus.InvalidArgument;
        ulong* p = (ulong*)gpa;
        p[0] = MonitorAbi.Version;
        p[1] = Vtl0Memory.MonitorStart;
        p[2] = (Vtl0Memory.MonitorEnd - Vtl0Memory.MonitorStart) >> 12;
        return MonitorStatus.Success;
    }

    // A VTL0 access the VTL protections or a register lock refused: one report line, then
    // #GP(0) in VTL0 at the instruction (PendingEvent0), so VTL0 does not re-execute it for ever.
    // A locked-register write that keeps the pinned bits is performed instead.
    private static void Refuse(byte* message)
    {
        uint type = *(uint*)(message + HvMessage.TypeOffset);
        byte* payload = message + HvMessage.PayloadOffset;
        ulong rip = *(ulong*)(payload + HvMessage.HeaderRip);
        byte access = payload[HvMessage.HeaderAccessType];
        byte length = (byte)(payload[HvMessage.HeaderInstructionLength] & 0xF);
        uint register = 0;
        ulong value = 0;
        if (type == HvMessage.TypeRegisterIntercept)
        {
            register = *(uint*)(payload + HvMessage.RegisterName);
            value = *(ulong*)(payload + HvMessage.RegisterValue);
            if (RegisterLock.TryAllow(register, value, rip, length)) return;
        }
        if (type == HvMessage.TypeMsrIntercept || (type == HvMessage.TypeRegisterIntercept && register != HvRegister.Cr0 && register != HvRegister.Cr4))
        {
            // a WRMSR or descriptor-table load VTL0 ran itself: the privileged-write policy
            long st = length == 0 ? MonitorStatus.InvalidArgument : PrivilegedWrites.PerformIntercepted(type, payload, s_endOfBoot);
            if (st == MonitorStatus.Success
                && HvClient.SetRegister(HvInputVtl.UseTargetVtl | 0, HvRegister.Rip, rip + length) == HvStatus.Success) return;
            if (st == MonitorStatus.Denied) s_denials++;
            InjectGp();
            return;
        }
        s_denials++;
        var c = Machine.Console;
        c.Write("denied VTL0 ").Write(access == HvMessage.AccessRead ? "read" : access == HvMessage.AccessWrite ? "write" : "execute");
        if (type == HvMessage.TypeGpaIntercept)
            c.Write(" of gpa=").Hex(*(ulong*)(payload + HvMessage.GpaGpa)).Write(" gva=").Hex(*(ulong*)(payload + HvMessage.GpaGva));
        else if (type == HvMessage.TypeRegisterIntercept)
            c.Write(" of ").Write(register == HvRegister.Cr0 ? "CR0" : register == HvRegister.Cr4 ? "CR4" : "register").Write('=').Hex(value).Write(" (pinned bits)");
        else c.Write(" (message type ").Hex(type).Write(')');
        c.Write(" at rip=").Hex(rip).Line(": #GP(0) injected");
        if (type == HvMessage.TypeGpaIntercept && access == HvMessage.AccessExecute)
            SealedSection.ExplainFetch(*(ulong*)(payload + HvMessage.GpaGpa));
        InjectGp();
    }

    // #GP(0) in VTL0 when it resumes (PendingEvent0): at the intercepted instruction, or right
    // after the VTL call whose privileged write was not performed.
    private static void InjectGp()
    {
        ulong ev = HvPendingEvent.Pending | HvPendingEvent.DeliverErrorCode | (GpVector << HvPendingEvent.VectorShift);
        ushort st = HvClient.SetRegister(HvInputVtl.UseTargetVtl | 0, HvRegister.PendingEvent0, ev);
        if (st != HvStatus.Success) MonitorMain.Stop("could not refuse the VTL0 access (PendingEvent0), status", st);
    }
}
