using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// Delivers exceptions through the guest's IDT. In long mode: 64-bit interrupt and trap gates,
/// IST and RSP0 stack switches through the TSS, error codes, CR2 (already set by the core). In
/// 32-bit protected mode (paging on or off): <see cref="ProtectedModeDelivery"/>. A fault while
/// delivering becomes #DF or is delivered instead (SDM vol. 3 table 6-5); a fault while delivering
/// #DF is a triple fault, which stops the machine. With CR0.PE = 0: <see cref="RealModeDelivery"/>
/// (the interrupt vector table). The pushed
/// RFLAGS image has RF set for fault-class exceptions (SDM vol. 3 6.13 and 18.3.1.1).
/// </summary>
public sealed class ExceptionDelivery(Cpu.Cpu cpu)
{
    private const byte DoubleFault = 8;
    // A fixed array (the chain has at most 9 entries): no generic list code over the entry type
    // to JIT-compile on the first exception.
    private readonly FaultChainEntry[] _chain = new FaultChainEntry[16];
    private int _chainLength;

    public IReadOnlyList<FaultChainEntry> LastChain => _chain.AsSpan(0, _chainLength).ToArray();
    public long Delivered { get; private set; }

    /// <summary>Returns false on a triple fault (the chain says how it came about), or when the
    /// host stopped the VM during delivery (a refused access under a stop policy).</summary>
    public bool Deliver(PendingException pending)
    {
        _chainLength = 0;
        GuestFault fault = pending.Fault;
        bool software = pending.IsSoftwareInterrupt;
        // a trap (#DB for single-step, data/I/O breakpoints, INT1) returns to the next instruction,
        // and so does a fault raised while delivering it
        ulong faultRip = pending.IsTrap ? cpu.Rip : pending.InstructionRip;
        ulong returnRip = software ? cpu.Rip : faultRip;
        for (int step = 0; step < 8; step++)
        {
            Record(fault, returnRip);
            GuestFault? nested = TryDeliver(fault, returnRip, software, out bool inNewTask);
            if (nested is null)
            {
                Delivered++;
                return true;
            }
            var n = nested.Value;
            if (inNewTask)
            {
                faultRip = cpu.Rip;   // a task switch was committed: the fault belongs to the new task (SDM 8.3)
            }
            if (cpu.StopRequested)
            {
                return false; // the host stopped the VM (a denied delivery access): go no further
            }
            // A software interrupt (INT n, INT3, INTO) is not an exception for these rules, even
            // INT 8 or INT 14: a fault delivering it (e.g. #GP for a gate DPL below CPL) is
            // handled serially, never as a double or triple fault.
            if (fault.Vector == DoubleFault && !software)
            {
                Record(n, faultRip);
                return false;
            }
            // SDM vol. 3 table 6-5: contributory after contributory or #PF, or #PF after #PF, is a
            // double fault; anything else is handled serially (the new fault replaces the old).
            bool firstPf = !software && fault.Vector == GuestFault.PageFault;
            bool secondPf = n.Vector == GuestFault.PageFault;
            bool doubleFault = (IsContributory(n) && ((!software && IsContributory(fault)) || firstPf)) || (firstPf && secondPf);
            if (doubleFault)
            {
                Record(n, faultRip);
                fault = new GuestFault(DoubleFault, true, 0, 0);
            }
            else
            {
                fault = n;
            }
            software = false;
            returnRip = faultRip;
        }
        return false;
    }

    private void Record(GuestFault f, ulong rip)
    {
        if (_chainLength < _chain.Length) _chain[_chainLength++] = new FaultChainEntry(f.Vector, f.HasErrorCode ? f.ErrorCode : null, f.Vector == GuestFault.PageFault ? f.Cr2 : 0, rip);
        if (f.Vector == GuestFault.PageFault) cpu.Cr2 = f.Cr2;
    }

    private static bool IsContributory(GuestFault f) => f.Vector is 0 or 10 or 11 or 12 or 13;

    /// <summary>Fault-class exceptions (SDM vol. 3 table 6-1): #DE, #BR, #UD, #NM, #TS, #NP, #SS,
    /// #GP, #PF, #MF, #AC, #XM, #VE, #CP. #DB is not one of them for RF: traps push RF as it is,
    /// and the #DB faults (instruction breakpoints, DR7.GD) leave RF to the debugger (SDM vol. 3
    /// 18.3.1.1: the handler sets RF in the image to resume past an instruction breakpoint).</summary>
    private static bool IsFaultClass(byte vector) => vector is 0 or 5 or 6 or 7 or 10 or 11 or 12 or 13 or 14 or 16 or 17 or 19 or 20 or 21;

    private GuestFault? TryDeliver(GuestFault fault, ulong returnRip, bool software, out bool inNewTask)
    {
        inNewTask = false;
        uint ext = software ? 0u : 1u;
        uint idtError = (uint)fault.Vector * 8 + 2 + ext;
        // RF in the pushed image makes IRET re-execute a faulting instruction without an
        // instruction-breakpoint match; traps, aborts and software interrupts push it as it is.
        ulong flagsImage = cpu.Rflags | (!software && IsFaultClass(fault.Vector) ? Flag.RF : 0);
        if ((cpu.Cr0 & 1) == 0)
            return RealModeDelivery.TryDeliver(cpu, fault, returnRip, flagsImage);
        if (!cpu.LongModeActive)
            return ProtectedModeDelivery.TryDeliver(cpu, fault, returnRip, software, flagsImage, out inNewTask);
        ulong gateAddress = cpu.Idtr.Base + (ulong)fault.Vector * 16;
        if ((ulong)fault.Vector * 16 + 15 > cpu.Idtr.Limit) return GuestFault.GP(idtError);
        Span<byte> gate = stackalloc byte[16];
        if (cpu.TryReadLinear(gateAddress, gate, supervisor: true) is { } readFault) return readFault;
        ulong lo = BinaryPrimitives.ReadUInt64LittleEndian(gate);
        ulong hi = BinaryPrimitives.ReadUInt64LittleEndian(gate[8..]);
        int type = (int)((lo >> 40) & 0xF);
        bool present = (lo & (1UL << 47)) != 0;
        int dpl = (int)((lo >> 45) & 3);
        if (type != 0xE && type != 0xF) return GuestFault.GP(idtError);
        if (software && dpl < cpu.Cpl) return GuestFault.GP(idtError);
        if (!present) return new GuestFault(11, true, idtError, 0);
        ushort selector = (ushort)(lo >> 16);
        ulong target = (lo & 0xFFFF) | ((lo >> 48) << 16) | (hi << 32);
        int ist = (int)((lo >> 32) & 7);

        // The new code segment (from the GDT), which sets the new CPL.
        if ((selector & ~7) == 0) return GuestFault.GP(ext);
        Span<byte> desc = stackalloc byte[8];
        if (cpu.TryReadLinear(cpu.Gdtr.Base + (ulong)(selector & ~7), desc, supervisor: true) is { } descFault) return descFault;
        ulong d = BinaryPrimitives.ReadUInt64LittleEndian(desc);
        var cs = SegmentRegister.FromDescriptor(selector, d);
        if (!cs.Present) return new GuestFault(11, true, (uint)(selector & ~3) + ext, 0);
        int newCpl = cs.Dpl;

        ulong oldSs = cpu.Segments[Cpu.Cpu.SS].Selector, oldRsp = cpu.ReadGpr(Cpu.Cpu.RSP);
        ulong oldCs = cpu.Segments[Cpu.Cpu.CS].Selector, oldFlags = flagsImage;
        ulong rsp = oldRsp;
        if (ist != 0 || newCpl < cpu.Cpl)
        {
            ulong tssField = ist != 0 ? 36 + (ulong)(ist - 1) * 8 : 4 + (ulong)newCpl * 8;
            Span<byte> stack = stackalloc byte[8];
            if (cpu.TryReadLinear(cpu.Tr.Base + tssField, stack, supervisor: true) is { } tssFault) return tssFault;
            rsp = BinaryPrimitives.ReadUInt64LittleEndian(stack);
        }
        rsp &= ~0xFUL;
        Span<byte> frame = stackalloc byte[48];
        int words = fault.HasErrorCode ? 6 : 5;
        int w = 0;
        if (fault.HasErrorCode) BinaryPrimitives.WriteUInt64LittleEndian(frame[(8 * w++)..], fault.ErrorCode);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[(8 * w++)..], returnRip);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[(8 * w++)..], oldCs);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[(8 * w++)..], oldFlags);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[(8 * w++)..], oldRsp);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[(8 * w)..], oldSs);
        ulong newRsp = rsp - (ulong)words * 8;
        if (cpu.TryWriteLinear(newRsp, frame[..(words * 8)], supervisor: newCpl == 0) is { } pushFault) return pushFault;

        cpu.SetSegment(Cpu.Cpu.CS, cs);
        if (newCpl < (int)(oldCs & 3))
        {
            cpu.SetSegment(Cpu.Cpu.SS, new SegmentRegister { Selector = (ushort)newCpl, Attributes = 0x93, Limit = 0xFFFF_FFFF });
        }
        cpu.WriteGpr(Cpu.Cpu.RSP, newRsp);
        cpu.Rip = target;
        cpu.Rflags &= ~((1UL << 8) | (1UL << 14) | (1UL << 16) | (1UL << 17));   // TF, NT, RF, VM
        if (type == 0xE) cpu.Rflags &= ~(1UL << 9);                              // interrupt gate: IF = 0
        return null;
    }
}
