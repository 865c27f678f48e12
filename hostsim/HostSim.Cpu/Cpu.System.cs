using System.Runtime.Intrinsics;

namespace HekiGuest.HostSim.Cpu;

/// <summary>System instructions: segments, descriptor tables, control/debug registers, MSRs, I/O, interrupts.</summary>
public sealed unsafe partial class Cpu
{
    public const uint MsrTsc = 0x10, MsrApicBase = 0x1B, MsrPat = 0x277, MsrEfer = 0xC000_0080, MsrStar = 0xC000_0081,
        MsrLstar = 0xC000_0082, MsrCstar = 0xC000_0083, MsrSfmask = 0xC000_0084, MsrFsBase = 0xC000_0100,
        MsrGsBase = 0xC000_0101, MsrKernelGsBase = 0xC000_0102, MsrTscAux = 0xC000_0103;

    /// <summary>The value of the CR4 bits this core accepts (others #GP).</summary>
    public const ulong Cr4Supported = 0xFFC | (1UL << 16) | (1UL << 17) | (1UL << 18) | (1UL << 20) | (1UL << 21);

    public ulong TscAux;

    private void RequireCpl0()
    {
        if (Cpl != 0)
        {
            Raise(GuestFault.GP());
        }
    }

    private void RequireIopl()
    {
        if ((ulong)Cpl > ((Rflags >> 12) & 3))
        {
            Raise(GuestFault.GP());
        }
    }

    private bool ExecuteSystem(DecodedOp d)
    {
        int size = d.Size;
        if (d.H is Handler.Lldt or Handler.Sldt or Handler.Ltr or Handler.Str or Handler.Lar or Handler.Lsl or Handler.Verr or Handler.Verw or Handler.Arpl
            && V86Mode)
        {
            Raise(GuestFault.UD());   // not recognised in virtual-8086 mode (SDM vol. 3 20.2.7)
        }
        switch (d.H)
        {
            case Handler.MovSreg:
                {
                    int seg = d.Insn.Op0Register - Iced.Intel.Register.ES;
                    ushort sel = (ushort)(d.K1 == OperandKind.Reg ? GetReg(d.R1, 2) : Read(Ea(d), 2));
                    if (seg == CS)
                    {
                        Raise(GuestFault.UD());
                    }
                    LoadDataSegment(seg, sel);
                    if (seg == SS)
                    {
                        _shadowNext = true;
                        InhibitDebugExceptions();
                    }
                    return true;
                }
            case Handler.MovFromSreg:
                {
                    int seg = d.Insn.Op1Register - Iced.Intel.Register.ES;
                    ulong sel = Segments[seg].Selector;
                    if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, sel); else Write(Ea(d), 2, sel);
                    return true;
                }
            case Handler.PushSreg:
                Push(Segments[d.Aux].Selector, size);
                return true;
            case Handler.PopSreg:
                {
                    ushort sel = (ushort)PeekStack(0, size);
                    LoadDataSegment(d.Aux, sel);
                    SetSp(Gpr[RSP] + (ulong)size);
                    if (d.Aux == SS)
                    {
                        _shadowNext = true;   // like MOV SS: interrupts and debug exceptions wait one instruction
                        InhibitDebugExceptions();
                    }
                    return true;
                }
            case Handler.JmpFar:
                if (!TryFarTransferToTask((ushort)d.Imm2, call: false)) LoadCodeSegment((ushort)d.Imm2, d.Imm);
                return true;
            case Handler.JmpFarIndirect:
                {
                    ulong la = Ea(d);
                    ulong off = Read(la, size);
                    ushort sel = (ushort)Read(la + (ulong)size, 2);
                    if (!TryFarTransferToTask(sel, call: false)) LoadCodeSegment(sel, off);
                    return true;
                }
            case Handler.RetFar:
                FarReturn(size, d.Imm);
                return true;
            case Handler.Iret:
                InterruptReturn(size);
                return true;
            case Handler.Int:
                RequireV86Iopl();
                RaiseSoftware((byte)d.Imm);
                return false;
            case Handler.Int3:
                RaiseSoftware(GuestFault.Breakpoint);
                return false;
            case Handler.Into:
                if ((Rflags & Flag.OF) != 0)
                {
                    RaiseSoftware(GuestFault.Overflow);
                }
                return true;
            case Handler.Int1:
                RaiseTrap(GuestFault.Debug);   // ICEBP: a #DB trap, no DPL check, DR6 unchanged
                return false;
            case Handler.Ud2:
                Raise(GuestFault.UD());
                return false;
            case Handler.Hlt:
                RequireCpl0();
                _stop = StopReason.Halted;
                return false;
            case Handler.Cli:
                RequireIopl();
                Rflags &= ~Flag.IF;
                return true;
            case Handler.Stac:
            case Handler.Clac:
                // CPL 0 only (#UD elsewhere, like a CPU without SMAP at CPL>0). AC decides SMAP
                // checks, so translations cached under the old value are dropped.
                if (Cpl != 0) Raise(GuestFault.UD());
                if (d.H == Handler.Stac) Rflags |= 1UL << 18; else Rflags &= ~(1UL << 18);
                if ((Cr4 & (1UL << 21)) != 0) FlushTlb();
                return true;
            case Handler.Sti:
                RequireIopl();
                if ((Rflags & Flag.IF) == 0)
                {
                    _shadowNext = true;
                }
                Rflags |= Flag.IF;
                return true;
            case Handler.In:
                {
                    ushort port = d.Aux == 1 ? (ushort)Gpr[RDX] : (ushort)d.Imm;
                    RequireIoPermission(port, size);
                    uint v = PortIo?.In(port, size) ?? uint.MaxValue;
                    SetReg(RAX, size, v);
                    if (_dbgArmed) CheckIoBreakpoints(port, size);
                    return true;
                }
            case Handler.Out:
                {
                    ushort port = d.Aux == 1 ? (ushort)Gpr[RDX] : (ushort)d.Imm;
                    RequireIoPermission(port, size);
                    PortIo?.Out(port, size, (uint)GetReg(RAX, size));
                    if (_dbgArmed) CheckIoBreakpoints(port, size);
                    return true;
                }
            case Handler.Lgdt:
            case Handler.Lidt:
                {
                    RequireCpl0();
                    ulong la = Ea(d);
                    ushort limit = (ushort)Read(la, 2);
                    ulong b = Read(la + 2, Bitness == 64 ? 8 : 4);
                    if (Bitness != 64 && size == 2) b &= 0xFF_FFFF;
                    if (Bitness == 64) RequireCanonical(b);   // #GP(0) for a non-canonical base (SDM vol. 2 LGDT/LIDT)
                    var t = new DescriptorTableRegister { Base = b, Limit = limit };
                    var which = d.H == Handler.Lgdt ? DescriptorTableLoad.Gdtr : DescriptorTableLoad.Idtr;
                    if (DescriptorTableHook != null && !DescriptorTableHook.AllowLoad(this, which, b, limit, 0)) return RefusedByHook();
                    if (d.H == Handler.Lgdt) Gdtr = t; else Idtr = t;
                    return true;
                }
            case Handler.Sgdt:
            case Handler.Sidt:
                {
                    if (Cpl > 0 && (Cr4 & (1UL << 11)) != 0)
                    {
                        Raise(GuestFault.GP());
                    }
                    ulong la = Ea(d);
                    var t = d.H == Handler.Sgdt ? Gdtr : Idtr;
                    int bs = Bitness == 64 ? 8 : 4;
                    ProbeWrite(la, 2 + bs);
                    Write(la, 2, t.Limit);
                    Write(la + 2, bs, t.Base);
                    return true;
                }
            case Handler.Ltr:
                {
                    RequireCpl0();
                    ushort sel = (ushort)Dst0(d, 2);
                    if (DescriptorTableHook != null && !DescriptorTableHook.AllowLoad(this, DescriptorTableLoad.Tr, 0, 0, sel)) return RefusedByHook();
                    LoadTaskRegister(sel);
                    return true;
                }
            case Handler.Lldt:
                {
                    RequireCpl0();
                    ushort sel = (ushort)Dst0(d, 2);
                    if (DescriptorTableHook != null && !DescriptorTableHook.AllowLoad(this, DescriptorTableLoad.Ldtr, 0, 0, sel)) return RefusedByHook();
                    if ((sel & ~3) == 0)
                    {
                        Ldtr = new SegmentRegister { Selector = sel };
                        return true;
                    }
                    var (lo, hi) = ReadSystemDescriptor(sel);
                    if (((lo >> 40) & 0x1F) != 0x02)
                    {
                        Raise(GuestFault.GP(sel & 0xFFFCu));
                    }
                    var ldt = SegmentRegister.FromDescriptor(sel, lo);
                    ldt.Base |= LongModeActive ? (hi & 0xFFFF_FFFF) << 32 : 0;
                    if (LongModeActive && !IsCanonical(ldt.Base)) Raise(GuestFault.GP(sel & 0xFFFCu));
                    Ldtr = ldt;
                    return true;
                }
            case Handler.Str:
            case Handler.Sldt:
                {
                    if (Cpl > 0 && (Cr4 & (1UL << 11)) != 0)
                    {
                        Raise(GuestFault.GP());
                    }
                    ulong sel = d.H == Handler.Str ? Tr.Selector : Ldtr.Selector;
                    if (d.K0 == OperandKind.Reg) SetReg(d.R0, size, sel); else Write(Ea(d), 2, sel);
                    return true;
                }
            case Handler.MovToCr:
                {
                    RequireCpl0();
                    ulong v = GetReg(d.R1, Bitness == 64 ? 8 : 4);
                    return TryWriteControlRegister(d.Aux, v) || RefusedByHook();
                }
            case Handler.MovFromCr:
                {
                    RequireCpl0();
                    ulong v = d.Aux switch
                    {
                        0 => Cr0,
                        2 => Cr2,
                        3 => Cr3,
                        4 => Cr4,
                        8 => Cr8,
                        _ => Fail(GuestFault.UD()),
                    };
                    SetReg(d.R0, Bitness == 64 ? 8 : 4, v);
                    return true;
                }
            case Handler.MovToDr:
            case Handler.MovFromDr:
                {
                    RequireCpl0();
                    int n = d.Aux;
                    if (n is 4 or 5)
                    {
                        if ((Cr4 & (1UL << 3)) != 0) Raise(GuestFault.UD());
                        n += 2;
                    }
                    if (n > 7) Raise(GuestFault.UD());
                    CheckGeneralDetect();
                    if (d.H == Handler.MovToDr)
                    {
                        ulong v = GetReg(d.R1, Bitness == 64 ? 8 : 4);
                        if (n >= 6 && (v >> 32) != 0) Raise(GuestFault.GP());
                        Dr[n] = n == 6 ? v | Dr6Reserved : n == 7 ? (v | 0x400) : v;
                        RefreshDebugState();
                    }
                    else
                    {
                        SetReg(d.R0, Bitness == 64 ? 8 : 4, Dr[n]);
                    }
                    return true;
                }
            case Handler.Rdmsr:
                {
                    RequireCpl0();
                    ulong v = ReadMsr((uint)Gpr[RCX]);
                    Gpr[RAX] = (uint)v;
                    Gpr[RDX] = v >> 32;
                    return true;
                }
            case Handler.Wrmsr:
                RequireCpl0();
                return TryWriteMsr((uint)Gpr[RCX], (uint)Gpr[RAX] | ((ulong)(uint)Gpr[RDX] << 32)) || RefusedByHook();
            case Handler.Rdtsc:
            case Handler.Rdtscp:
                {
                    if (d.H == Handler.Rdtscp && !_hasRdtscp) Raise(GuestFault.UD());
                    if (Cpl > 0 && (Cr4 & (1UL << 2)) != 0)
                    {
                        Raise(GuestFault.GP());
                    }
                    ulong tsc = ReadTsc();
                    Gpr[RAX] = (uint)tsc;
                    Gpr[RDX] = tsc >> 32;
                    if (d.H == Handler.Rdtscp)
                    {
                        Gpr[RCX] = (uint)TscAux;
                    }
                    return true;
                }
            case Handler.Cpuid:
                {
                    var r = Cpuid.Query(this, (uint)Gpr[RAX], (uint)Gpr[RCX]);
                    Gpr[RAX] = r.Eax;
                    Gpr[RBX] = r.Ebx;
                    Gpr[RCX] = r.Ecx;
                    Gpr[RDX] = r.Edx;
                    return true;
                }
            case Handler.Invlpg:
                RequireCpl0();
                FlushTlbPage(Ea(d));
                return true;
            case Handler.Invpcid:
                Invpcid(d);
                return true;
            case Handler.Xsetbv:
                {
                    if ((Cr4 & (1UL << 18)) == 0) Raise(GuestFault.UD());
                    RequireCpl0();
                    ulong v = (uint)Gpr[RAX] | ((ulong)(uint)Gpr[RDX] << 32);
                    if ((uint)Gpr[RCX] != 0 || (v & 1) == 0 || (v & ~3UL) != 0) Raise(GuestFault.GP());
                    if (ControlRegisterHook != null && !ControlRegisterHook.AllowWrite(this, 100, Xcr0, v)) Raise(GuestFault.GP());
                    Xcr0 = v;
                    return true;
                }
            case Handler.Xgetbv:
                if ((Cr4 & (1UL << 18)) == 0) Raise(GuestFault.UD());
                if ((uint)Gpr[RCX] != 0) Raise(GuestFault.GP());
                Gpr[RAX] = (uint)Xcr0;
                Gpr[RDX] = Xcr0 >> 32;
                return true;
            case Handler.Fninit:
                CheckFpuAvailable();
                if (d.Aux != 0) FpuWait();
                FpuInitialise();
                return true;
            case Handler.Fnstcw:
                CheckFpuAvailable();
                Write(Ea(d), 2, FpuControl);
                return true;
            case Handler.Fldcw:
                CheckFpuAvailable();
                FpuControl = (ushort)Read(Ea(d), 2);
                FpuStatus = FpuStatusWithSummary(FpuStatus, FpuControl);
                return true;
            case Handler.Fxsave:
                FxSave(Ea(d), d.Aux != 0);
                return true;
            case Handler.Fxrstor:
                FxRestore(Ea(d), d.Aux != 0);
                return true;
            case >= Handler.Fwait and <= Handler.X87Arithmetic:
                ExecuteX87Control(d);
                return true;
            case >= Handler.Xsave and <= Handler.Xrstor:
                ExecuteXsave(d);
                return true;
            case Handler.Smsw:
                Smsw(d);
                return true;
            case >= Handler.Bextr and <= Handler.Blsr:
                ExecuteBmi1(d);
                return true;
            case Handler.TooLong: Raise(GuestFault.GP()); return false;
            case Handler.CallFar: CallFar(d); return true;
            case >= Handler.Pusha and <= Handler.Arpl: ExecuteLegacy32(d); return true;
            case Handler.LoadFarPointer: LoadFarPointer(d); return true;
            case Handler.Xlat: Xlat(d); return true;
            case Handler.Lmsw: Lmsw(d); return true;
            case Handler.Rdpmc: Rdpmc(); return true;
            case Handler.Ins or Handler.Outs: StringIo(d); return true;
            case Handler.Lar or Handler.Lsl or Handler.Verr or Handler.Verw: DescriptorQuery(d); return true;
            case Handler.Ldmxcsr:
                {
                    uint v = (uint)Read(Ea(d), 4);
                    if ((v & ~0xFFFFu) != 0) Raise(GuestFault.GP());
                    Mxcsr = v;
                    return true;
                }
            case Handler.Stmxcsr:
                Write(Ea(d), 4, Mxcsr);
                return true;
            case Handler.Swapgs:
                if (Bitness != 64) Raise(GuestFault.UD());
                RequireCpl0();
                (Segments[GS].Base, KernelGsBase) = (KernelGsBase, Segments[GS].Base);
                UpdateMode();
                return true;
            case Handler.Syscall:
                Syscall();
                return true;
            case Handler.Sysret:
                Sysret(d.Insn.Code == Iced.Intel.Code.Sysretq);
                return true;
            case Handler.Sysenter:
                Sysenter();
                return true;
            case Handler.Sysexit:
                Sysexit(d.Aux != 0);
                return true;
            case Handler.Vmcall:
            case Handler.Vmmcall:
                {
                    if (Hypercalls == null)
                    {
                        Raise(GuestFault.UD());
                    }
                    var f = Hypercalls!.Hypercall(this, d.H == Handler.Vmmcall);
                    if (f is { } fault)
                    {
                        Raise(fault);
                    }
                    return true;
                }
            case Handler.Wbinvd:
                RequireCpl0();
                return true;
            case Handler.Clts:
                RequireCpl0();
                Cr0 &= ~8UL;
                return true;
            case Handler.Rdfsbase:
            case Handler.Wrfsbase:
                if (Bitness != 64 || (Cr4 & (1UL << 16)) == 0) Raise(GuestFault.UD());
                if (d.H == Handler.Rdfsbase)
                {
                    SetReg(d.R0, size, Segments[d.Aux].Base);
                }
                else
                {
                    Segments[d.Aux].Base = RequireCanonical(GetReg(d.R0, size));
                    UpdateMode();
                }
                return true;
            default:
                RaiseUnimplemented(d, "instruction not implemented by the hostsim core");
                return false;
        }
    }

    private ulong Fail(GuestFault f)
    {
        Raise(f);
        return 0;
    }

    private ulong ReadTsc() => (ulong)RetiredNow + TscOffset;

    private void CheckFpuAvailable()
    {
        if ((Cr0 & 0xC) != 0)
        {
            Raise(new GuestFault(GuestFault.DeviceNotAvailable, false, 0, 0));
        }
    }

    // ---- control registers ----

    /// <summary>MOV to CRn semantics (also usable by the machine for reset/loader).</summary>
    public void WriteControlRegister(int n, ulong v)
    {
        if (!TryWriteControlRegister(n, v)) Raise(_softFault);
    }

    /// <summary>
    /// A host hook refused the instruction being executed (a control-register, descriptor-table or
    /// MSR write): #GP(0) without a host exception (the fault is left in <see cref="_softFault"/>
    /// and the block loop leaves with <see cref="StopReason.Exception"/>, as for a micro-op's
    /// fault). Refusals are the common case of an intercepting host (a VM exit per write), so they
    /// must not cost an exception unwind. Returns false: the handler's "not completed".
    /// </summary>
    private bool RefusedByHook()
    {
        _softFault = GuestFault.GP();
        _stop = StopReason.Exception;
        return false;
    }

    /// <summary><see cref="WriteControlRegister"/>; false (nothing changed, #GP(0) in
    /// <see cref="_softFault"/>) when the control-register hook refuses the write. The core's own
    /// checks still raise their faults.</summary>
    private bool TryWriteControlRegister(int n, ulong v)
    {
        switch (n)
        {
            case 0:
                {
                    if (Bitness != 64) v &= 0xFFFF_FFFF;
                    if ((v >> 32) != 0) Raise(GuestFault.GP());
                    bool pg = (v & 0x8000_0000) != 0, pe = (v & 1) != 0;
                    if (pg && !pe) Raise(GuestFault.GP());
                    if ((v & (1UL << 29)) != 0 && (v & (1UL << 30)) == 0) Raise(GuestFault.GP());
                    bool lme = (Efer & 0x100) != 0;
                    if (pg && (Cr0 & 0x8000_0000) == 0 && lme && (Cr4 & 0x20) == 0) Raise(GuestFault.GP());
                    if (!pg && Bitness == 64) Raise(GuestFault.GP());
                    if (!pg && (Cr4 & Cr4Pcide) != 0) Raise(GuestFault.GP());   // paging off with PCIDs in use
                    if (ControlRegisterHook != null && !ControlRegisterHook.AllowWrite(this, 0, Cr0, v)) { _softFault = GuestFault.GP(); return false; }
                    Cr0 = v | 0x10;
                    Efer = pg && lme ? Efer | 0x400 : Efer & ~0x400UL;
                    UpdateMode();
                    // flush what the change requires (nothing for TS/MP/EM/NE/AM/CD/NW, the write
                    // TLB for WP alone, everything for PE/PG)
                    SyncTranslationContext();
                    break;
                }
            case 2:
                Cr2 = v;
                break;
            case 3:
                // with CR4.PCIDE, bit 63 asks to keep the PCID's translations; it is not stored
                // (flushing anyway is what the core does: always allowed, see Cpu.Pcid.cs)
                if ((Cr4 & Cr4Pcide) != 0) v &= ~Cr3NoFlush;
                if (LongModeActive && (v >> 52) != 0) Raise(GuestFault.GP());
                if (ControlRegisterHook != null && !ControlRegisterHook.AllowWrite(this, 3, Cr3, v)) { _softFault = GuestFault.GP(); return false; }
                Cr3 = v;
                FlushTlb();
                break;
            case 4:
                if ((v & ~_cr4Allowed) != 0) Raise(GuestFault.GP());
                if (LongModeActive && (v & 0x20) == 0) Raise(GuestFault.GP());
                // PCIDE can be set only in IA-32e mode with PCID 0 in CR3 (SDM vol. 3 4.10.1)
                if ((v & ~Cr4 & Cr4Pcide) != 0 && (!LongModeActive || (Cr3 & 0xFFF) != 0)) Raise(GuestFault.GP());
                if (ControlRegisterHook != null && !ControlRegisterHook.AllowWrite(this, 4, Cr4, v)) { _softFault = GuestFault.GP(); return false; }
                Cr4 = v;
                SyncTranslationContext();   // only a paging or permission bit flushes
                RefreshDebugState();        // CR4.DE turns R/W = 10 into I/O breakpoints
                break;
            case 8:
                if ((v & ~0xFUL) != 0) Raise(GuestFault.GP());
                if (ControlRegisterHook != null && !ControlRegisterHook.AllowWrite(this, 8, Cr8, v)) { _softFault = GuestFault.GP(); return false; }
                Cr8 = v;
                break;
            default:
                Raise(GuestFault.UD());
                break;
        }
        return true;
    }

    // ---- MSRs ----

    private ulong ReadMsr(uint msr)
    {
        if (MsrHook != null)
        {
            var r = MsrHook.Read(this, msr, out ulong hv);
            if (r == MsrResult.Handled) return hv;
            if (r == MsrResult.GeneralProtection) Raise(GuestFault.GP());
        }
        switch (msr)
        {
            case MsrTsc: return ReadTsc();
            case MsrApicBase: return ApicBase;
            case MsrPat: return Pat;
            case MsrEfer: return Efer;
            case MsrStar: return Star;
            case MsrLstar: return Lstar;
            case MsrCstar: return Cstar;
            case MsrSfmask: return Sfmask;
            case MsrFsBase: return Segments[FS].Base;
            case MsrGsBase: return Segments[GS].Base;
            case MsrKernelGsBase: return KernelGsBase;
            case MsrTscAux: return TscAux;
            case MsrSysenterCs or MsrSysenterEsp or MsrSysenterEip when _hasSep: return SysenterMsr(msr);
            case MsrMiscEnable when _model.Vendor == CpuVendor.Intel: return MiscEnable;
            default:
                Raise(GuestFault.GP());
                return 0;
        }
    }

    /// <summary>WRMSR; false (nothing changed, #GP(0) in <see cref="_softFault"/>) when the MSR
    /// hook refuses the write. The core's own checks still raise their faults.</summary>
    private bool TryWriteMsr(uint msr, ulong v)
    {
        if (MsrHook != null)
        {
            var r = MsrHook.Write(this, msr, v);
            if (r == MsrResult.Handled) return true;
            if (r == MsrResult.GeneralProtection)
            {
                _softFault = GuestFault.GP();
                return false;
            }
        }
        WriteCoreMsr(msr, v);
        return true;
    }

    private void WriteCoreMsr(uint msr, ulong v)
    {
        switch (msr)
        {
            case MsrTsc: TscOffset = v - (ulong)RetiredNow; break;
            case MsrApicBase: ApicBase = v; break;
            case MsrPat: Pat = v; break;
            case MsrEfer:
                {
                    // SCE(0) LME(8) LMA(10, read-only) NXE(11)
                    if ((v & ~_eferAllowed) != 0) Raise(GuestFault.GP());
                    if ((Cr0 & 0x8000_0000) != 0 && ((v ^ Efer) & 0x100) != 0) Raise(GuestFault.GP());
                    Efer = (v & ~0x400UL) | (Efer & 0x400);
                    FlushTlb();
                    break;
                }
            case MsrStar: Star = v; break;
            case MsrLstar: Lstar = RequireCanonical(v); break;
            case MsrCstar: Cstar = RequireCanonical(v); break;
            case MsrSfmask: Sfmask = v & 0xFFFF_FFFF; break;
            case MsrFsBase: Segments[FS].Base = RequireCanonical(v); UpdateMode(); break;
            case MsrGsBase: Segments[GS].Base = RequireCanonical(v); UpdateMode(); break;
            case MsrKernelGsBase: KernelGsBase = RequireCanonical(v); break;
            case MsrTscAux: TscAux = v & 0xFFFF_FFFF; break;
            case MsrSysenterCs or MsrSysenterEsp or MsrSysenterEip when _hasSep: WriteSysenterMsr(msr, v); break;
            case MsrMiscEnable when _model.Vendor == CpuVendor.Intel: WriteMiscEnable(v); break;
            default: Raise(GuestFault.GP()); break;
        }
    }

    /// <summary>#GP(0) unless <paramref name="address"/> is canonical (48-bit linear addresses):
    /// WRMSR to the FS/GS/kernel-GS bases, LSTAR, CSTAR and the SYSENTER addresses,
    /// WRFSBASE/WRGSBASE, LGDT/LIDT in 64-bit mode (SDM vol. 2). LLDT/LTR check their 16-byte
    /// descriptor's base with <see cref="IsCanonical"/> and #GP(selector).</summary>
    private ulong RequireCanonical(ulong address)
    {
        if (!IsCanonical(address))
        {
            Raise(GuestFault.GP());
        }
        return address;
    }

    /// <summary>True when bits 63:47 of <paramref name="address"/> are all equal (48-bit linear addresses).</summary>
    private static bool IsCanonical(ulong address) => (ulong)((long)(address << 16) >> 16) == address;

    // ---- segments and descriptor tables ----

    private ulong ReadDescriptor(ushort sel)
    {
        var table = (sel & 4) != 0 ? new DescriptorTableRegister { Base = Ldtr.Base, Limit = (ushort)Ldtr.Limit } : Gdtr;
        ulong off = (ulong)(sel & ~7);
        if (off + 7 > table.Limit)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        return ReadSystem(table.Base + off, 8);
    }

    private (ulong Lo, ulong Hi) ReadSystemDescriptor(ushort sel)
    {
        ulong off = (ulong)(sel & ~7);
        int span = LongModeActive ? 15 : 7;
        if ((sel & 4) != 0 || off + (ulong)span > Gdtr.Limit)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        ulong lo = ReadSystem(Gdtr.Base + off, 8);
        ulong hi = LongModeActive ? ReadSystem(Gdtr.Base + off + 8, 8) : 0;
        return (lo, hi);
    }

    /// <summary>CR0.PE = 0: segment loads set the selector and base = selector x 16 and keep the
    /// hidden limit and attributes (SDM vol. 3 20.1); no descriptor tables, no privilege checks.</summary>
    private bool RealMode => (Cr0 & 1) == 0;

    private void LoadRealModeSegment(int seg, ushort sel)
    {
        var s = Segments[seg];
        s.Selector = sel;
        s.Base = (ulong)sel << 4;
        Segments[seg] = s;
        UpdateMode();
    }

    private void LoadDataSegment(int seg, ushort sel)
    {
        if (ParagraphSegments)
        {
            LoadRealModeSegment(seg, sel);
            return;
        }
        if ((sel & ~3) == 0)
        {
            if (seg == SS && (Bitness != 64 || (sel & 3) != Cpl))
            {
                Raise(GuestFault.GP());
            }
            Segments[seg] = new SegmentRegister { Selector = sel, Attributes = seg == SS ? (ushort)(0x93 | (Cpl << 5)) : (ushort)0 };
            UpdateMode();
            return;
        }
        ulong desc = ReadDescriptor(sel);
        var s = SegmentRegister.FromDescriptor(sel, desc);
        bool isCode = (s.Attributes & 0x08) != 0;
        bool system = (s.Attributes & 0x10) == 0;
        bool bad = system || (seg == SS ? isCode || (s.Attributes & 2) == 0 : isCode && (s.Attributes & 2) == 0);
        if (bad)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        if (!s.Present)
        {
            Raise(seg == SS ? GuestFault.SS(sel & 0xFFFCu) : new GuestFault(11, true, sel & 0xFFFCu, 0));
        }
        Segments[seg] = s;
        UpdateMode();
    }

    /// <summary>Loads CS from the GDT/LDT for a far JMP/RET/IRET at the same or a new privilege level.</summary>
    private void LoadCodeSegment(ushort sel, ulong offset, int? newCpl = null)
    {
        if (ParagraphSegments)
        {
            LoadRealModeSegment(CS, sel);
            Rip = offset & 0xFFFF_FFFF;
            return;
        }
        if ((sel & ~3) == 0)
        {
            Raise(GuestFault.GP());
        }
        ulong desc = ReadDescriptor(sel);
        var s = SegmentRegister.FromDescriptor(sel, desc);
        if ((s.Attributes & 0x18) != 0x18)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        if (!s.Present)
        {
            Raise(new GuestFault(11, true, sel & 0xFFFCu, 0));
        }
        int cpl = newCpl ?? Cpl;
        s.Selector = (ushort)((sel & ~3) | cpl);
        // CPL follows the selector RPL for the new CS
        s.Attributes = (ushort)((s.Attributes & ~0x60) | ((s.Attributes & 0x4) != 0 ? s.Attributes & 0x60 : cpl << 5));
        Segments[CS] = s;
        UpdateMode();
        Cpl = cpl;
        Rip = Bitness == 64 ? offset : offset & 0xFFFF_FFFF;
    }

    private void LoadTaskRegister(ushort sel)
    {
        if ((sel & ~3) == 0 || (sel & 4) != 0)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        var (lo, hi) = ReadSystemDescriptor(sel);
        ulong type = (lo >> 40) & 0x1F;
        if (type != 0x09 && type != 0x01)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        var tr = SegmentRegister.FromDescriptor(sel, lo);
        if (!tr.Present)
        {
            Raise(new GuestFault(11, true, sel & 0xFFFCu, 0));
        }
        if (LongModeActive)
        {
            tr.Base |= (hi & 0xFFFF_FFFF) << 32;
            if (!IsCanonical(tr.Base)) Raise(GuestFault.GP(sel & 0xFFFCu));   // before the busy bit is set
        }
        // mark busy in the GDT
        WriteSystem(Gdtr.Base + (ulong)(sel & ~7), 8, lo | (2UL << 40));
        tr.Attributes |= 2;
        Tr = tr;
    }

    private void FarReturn(int size, ulong popExtra)
    {
        ulong ip = PeekStack(0, size);
        ushort sel = (ushort)PeekStack((ulong)size, size);
        if (ParagraphSegments)
        {
            LoadCodeSegment(sel, ip);
            SetSp(Gpr[RSP] + (ulong)(2 * size) + popExtra);
            return;
        }
        int rpl = sel & 3;
        if (rpl < Cpl)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        if (rpl == Cpl)
        {
            LoadCodeSegment(sel, ip);
            SetSp(Gpr[RSP] + (ulong)(2 * size) + popExtra);
            return;
        }
        ulong sp = PeekStack((ulong)(2 * size) + popExtra, size);
        ushort ss = (ushort)PeekStack((ulong)(3 * size) + popExtra, size);
        LoadCodeSegment(sel, ip, rpl);
        LoadDataSegment(SS, ss);
        Gpr[RSP] = sp;
    }

    private void InterruptReturn(int size)
    {
        if (V86Mode)
        {
            V86InterruptReturn(size);
            return;
        }
        if (!RealMode && (Rflags & Flag.NT) != 0)
        {
            TaskReturn();   // back to the previous task (#GP(0) in IA-32e mode)
            return;
        }
        ulong ip = PeekStack(0, size);
        ushort sel = (ushort)PeekStack((ulong)size, size);
        ulong flags = PeekStack((ulong)(2 * size), size);
        if (RealMode)
        {
            // IP, CS, FLAGS (the 16- or 32-bit forms); every writable flag, IOPL included (CPL 0)
            LoadCodeSegment(sel, size == 2 ? ip & 0xFFFF : ip);
            SetSp(Gpr[RSP] + (ulong)(3 * size));
            ulong w = Flag.Writable | Flag.VIF | Flag.VIP;
            if (size == 2) w &= 0xFFFF;
            Rflags = (Rflags & ~w) | (flags & w) | Flag.Reserved1;
            return;
        }
        int rpl = sel & 3;
        if (rpl < Cpl)
        {
            Raise(GuestFault.GP(sel & 0xFFFCu));
        }
        bool popStack = Bitness == 64 || rpl != Cpl;
        ulong sp = 0;
        ushort ss = 0;
        if (popStack)
        {
            sp = PeekStack((ulong)(3 * size), size);
            ss = (ushort)PeekStack((ulong)(4 * size), size);
        }
        if (Cpl == 0 && size == 4 && !LongModeActive && (flags & Flag.VM) != 0)
        {
            ReturnToV86();
            ArmResumeFlag();
            return;
        }
        int oldCpl = Cpl;
        ulong oldSp = Gpr[RSP];
        LoadCodeSegment(sel, ip, rpl);
        if (popStack)
        {
            if ((ss & ~3) == 0 && Bitness == 64)
            {
                Segments[SS] = new SegmentRegister { Selector = ss, Attributes = (ushort)(0x93 | (rpl << 5)) };
                UpdateMode();
            }
            else
            {
                LoadDataSegment(SS, ss);
            }
            Gpr[RSP] = size == 4 ? (uint)sp : size == 2 ? (Gpr[RSP] & ~0xFFFFUL) | (ushort)sp : sp;
        }
        else
        {
            Gpr[RSP] = oldSp + (ulong)(3 * size);
            if (Bitness != 64) Gpr[RSP] &= SpMask | ~0xFFFF_FFFFUL;
        }
        ulong writable = Flag.Writable | Flag.VIF | Flag.VIP;
        if (oldCpl > 0)
        {
            writable &= ~Flag.IOPL;
            if ((ulong)oldCpl > ((Rflags >> 12) & 3)) writable &= ~Flag.IF;
        }
        if (size == 2) writable &= 0xFFFF;
        Rflags = (Rflags & ~writable) | (flags & writable) | Flag.Reserved1;
        ArmResumeFlag();
    }

    private void ArmResumeFlag()
    {
        if ((Rflags & Flag.RF) != 0)
        {
            // RF stays set for the next instruction only (_rfArmed, checked by ExecuteBlocks at the next block entries)
            _rfArmed = true;
            _rfClearAt = _curPos + 2;
        }
    }

    private void Syscall()
    {
        if ((Efer & 1) == 0 || !LongModeActive)
        {
            Raise(GuestFault.UD());
        }
        // the target depends on the mode SYSCALL was executed in: LSTAR from 64-bit code, CSTAR
        // from compatibility mode (decided before CS switches to the 64-bit kernel segment)
        ulong target = Bitness == 64 ? Lstar : Cstar;
        Gpr[RCX] = Rip;
        Gpr[11] = Rflags & ~Flag.RF;
        ushort sel = (ushort)((Star >> 32) & 0xFFFC);
        Segments[CS] = new SegmentRegister { Selector = sel, Attributes = 0xA09B, Limit = 0xFFFF_FFFF };
        Segments[SS] = new SegmentRegister { Selector = (ushort)(sel + 8), Attributes = 0xC093, Limit = 0xFFFF_FFFF };
        Rflags = (Rflags & ~Sfmask & ~Flag.RF) | Flag.Reserved1;
        UpdateMode();
        Rip = target;
    }

    private void Sysret(bool to64)
    {
        if ((Efer & 1) == 0 || !LongModeActive)
        {
            Raise(GuestFault.UD());
        }
        RequireCpl0();
        ulong target = to64 ? Gpr[RCX] : (uint)Gpr[RCX];
        if (to64 && (ulong)((long)(target << 16) >> 16) != target)
        {
            Raise(GuestFault.GP());
        }
        ushort baseSel = (ushort)((Star >> 48) & 0xFFFF);
        Segments[CS] = to64
            ? new SegmentRegister { Selector = (ushort)((baseSel + 16) | 3), Attributes = 0xA0FB, Limit = 0xFFFF_FFFF }
            : new SegmentRegister { Selector = (ushort)(baseSel | 3), Attributes = 0xC0FB, Limit = 0xFFFF_FFFF };
        Segments[SS] = new SegmentRegister { Selector = (ushort)((baseSel + 8) | 3), Attributes = 0xC0F3, Limit = 0xFFFF_FFFF };
        Rflags = (Gpr[11] & 0x3C7FD7) | Flag.Reserved1;
        UpdateMode();
        Rip = target;
    }
}
