using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>Table-driven tests of the system instructions, privilege checks and exception reporting.</summary>
public sealed class SystemInstructionTests
{
    public static TheoryData<string> PrivilegedAtCpl3 => new()
    {
        "hlt", "cli", "sti", "lgdt", "lidt", "ltr", "mov-cr0", "mov-from-cr3", "mov-dr7", "rdmsr", "wrmsr", "invlpg",
        "in", "out", "wbinvd", "swapgs", "clts", "xsetbv", "mov-cr4",
    };

    private static void Emit(Assembler a, string what)
    {
        switch (what)
        {
            case "hlt": a.hlt(); break;
            case "cli": a.cli(); break;
            case "sti": a.sti(); break;
            case "lgdt": a.lgdt(__[rsp]); break;
            case "lidt": a.lidt(__[rsp]); break;
            case "ltr": a.ltr(ax); break;
            case "mov-cr0": a.mov(cr0, rax); break;
            case "mov-cr4": a.mov(cr4, rax); break;
            case "mov-from-cr3": a.mov(rax, cr3); break;
            case "mov-dr7": a.mov(dr7, rax); break;
            case "rdmsr": a.rdmsr(); break;
            case "wrmsr": a.wrmsr(); break;
            case "invlpg": a.invlpg(__[rax]); break;
            case "in": a.@in(al, dx); break;
            case "out": a.@out(dx, al); break;
            case "wbinvd": a.wbinvd(); break;
            case "swapgs": a.swapgs(); break;
            case "clts": a.clts(); break;
            case "xsetbv": a.xsetbv(); break;
            default: throw new ArgumentException(what);
        }
    }

    [Theory]
    [MemberData(nameof(PrivilegedAtCpl3))]
    public void PrivilegedInstructionAtCpl3RaisesGp(string what)
    {
        using var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 18; // OSXSAVE, so XSETBV reaches its privilege check
        box.Load(a => Emit(a, what));
        box.EnterUserMode();
        Assert.Equal(3, box.Cpu.Cpl);
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(GuestBox.CodeBase, box.Cpu.Rip);
        Assert.Empty(box.Cpu.Diagnostics);
    }

    [Fact]
    public void HltAtCpl0StopsAfterTheInstruction()
    {
        using var box = new GuestBox();
        box.Load(a => { a.mov(eax, 5); a.hlt(); a.mov(eax, 6); });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(5UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(GuestBox.CodeBase + 6, box.Cpu.Rip);
    }

    [Fact]
    public void CliStiAndInterruptShadow()
    {
        using var box = new GuestBox();
        box.Load(a => { a.cli(); a.sti(); a.nop(); a.hlt(); });
        box.Cpu.Rflags |= Flag.IF;
        box.Cpu.Run(1);
        Assert.Equal(0UL, box.Cpu.Rflags & Flag.IF);
        box.Cpu.Run(1);
        Assert.NotEqual(0UL, box.Cpu.Rflags & Flag.IF);
        box.Cpu.Run(1);
        Assert.True(box.Cpu.InterruptShadow);
        box.Cpu.Run(1);
        Assert.False(box.Cpu.InterruptShadow);
    }

    private sealed class RecordingPorts : IPortIo
    {
        public readonly List<(ushort Port, int Size, uint Value)> Writes = [];

        public uint In(ushort port, int size) => port == 0x3FD ? 0x60u : 0xFFFF_FFFFu;

        public void Out(ushort port, int size, uint value) => Writes.Add((port, size, value));
    }

    [Fact]
    public void PortIoGoesThroughTheHook()
    {
        using var box = new GuestBox();
        var ports = new RecordingPorts();
        box.Cpu.PortIo = ports;
        box.Load(a =>
        {
            a.mov(dx, 0x3FD); a.@in(al, dx); a.mov(ebx, eax);
            a.mov(dx, 0x3F8); a.mov(al, (byte)'H'); a.@out(dx, al);
            a.mov(eax, 0x1234); a.@out(0xF4, eax);
            a.mov(dx, 0x80); a.@in(ax, dx);
            a.hlt();
        });
        box.Cpu.Gpr[Cpu.RBX] = ulong.MaxValue;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x60UL, box.Cpu.Gpr[Cpu.RBX] & 0xFF);
        Assert.Equal([(0x3F8, 1, (uint)'H'), (0xF4, 4, 0x1234u)], ports.Writes);
        Assert.Equal(0xFFFFUL, box.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
    }

    private sealed class TestMsrs : IMsrHook
    {
        public ulong Pinned;

        public MsrResult Read(Cpu cpu, uint msr, out ulong value)
        {
            value = Pinned;
            return msr == 0x4000_0100 ? MsrResult.Handled : MsrResult.NotHandled;
        }

        public MsrResult Write(Cpu cpu, uint msr, ulong value)
        {
            if (msr != 0x4000_0100) return MsrResult.NotHandled;
            if ((value & Pinned) != Pinned) return MsrResult.GeneralProtection;
            Pinned = value;
            return MsrResult.Handled;
        }
    }

    [Fact]
    public void MsrsArchitecturalHookedAndUnknown()
    {
        using var box = new GuestBox();
        box.Cpu.MsrHook = new TestMsrs();
        box.Load(a =>
        {
            a.mov(ecx, 0xC0000100); a.mov(eax, 0x5678); a.mov(edx, 0x1234); a.wrmsr();   // FS_BASE
            a.mov(ecx, 0xC0000080); a.rdmsr(); a.mov(r8, rax);                           // EFER
            a.mov(ecx, 0x40000100); a.mov(eax, 3); a.xor(edx, edx); a.wrmsr(); a.rdmsr(); a.mov(r9, rax);
            a.mov(eax, 1); a.wrmsr();                                                   // removing a pinned bit -> #GP
            a.hlt();
        });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0x1234_0000_5678UL, box.Cpu.Segments[Cpu.FS].Base);
        Assert.Equal(0x500UL, box.Cpu.Gpr[8]);
        Assert.Equal(3UL, box.Cpu.Gpr[9]);

        using var box2 = new GuestBox();
        box2.Load(a => { a.mov(ecx, 0x12345); a.rdmsr(); });
        Assert.Equal(StopReason.Exception, box2.Run());
        Assert.Equal(GuestFault.GeneralProtection, box2.Cpu.PendingException!.Value.Fault.Vector);
    }

    [Fact]
    public void CpuidAdvertisesWhatTheCoreImplements()
    {
        using var box = new GuestBox();
        box.Load(a => { a.xor(eax, eax); a.cpuid(); a.mov(r8d, ebx); a.mov(eax, 1); a.cpuid(); a.mov(r9d, edx); a.mov(r10d, ecx); a.mov(eax, 0x80000001); a.cpuid(); a.mov(r11d, edx); a.hlt(); });
        box.Run();
        Assert.Equal(BitConverter.ToUInt32("Genu"u8), (uint)box.Cpu.Gpr[8]);   // the default model: GenuineIntel
        Assert.NotEqual(0UL, box.Cpu.Gpr[9] & (1UL << 26));  // SSE2
        Assert.NotEqual(0UL, box.Cpu.Gpr[10] & (1UL << 13)); // CX16
        Assert.NotEqual(0UL, box.Cpu.Gpr[11] & (1UL << 29)); // LM
    }

    private sealed class Veto : IControlRegisterHook
    {
        public bool AllowWrite(Cpu cpu, int register, ulong oldValue, ulong newValue) =>
            !(register == 0 && (oldValue & 0x10000) != 0 && (newValue & 0x10000) == 0);
    }

    [Fact]
    public void ControlRegisterWritesChecksAndHook()
    {
        using var box = new GuestBox();
        box.Cpu.ControlRegisterHook = new Veto();
        box.Cpu.Cr0 |= 0x10000; // WP
        box.Load(a =>
        {
            a.mov(rax, cr4); a.or(eax, 0x80); a.mov(cr4, rax);       // PGE: accepted
            a.mov(rax, 0x123000); a.mov(cr3, rax);
            a.mov(rax, cr0); a.and(eax, ~0x10000); a.mov(cr0, rax); // clearing WP: vetoed -> #GP
        });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.NotEqual(0UL, box.Cpu.Cr0 & 0x10000);
        Assert.Equal(0x123000UL, box.Cpu.Cr3);
        Assert.NotEqual(0UL, box.Cpu.Cr4 & 0x80);

        using var box2 = new GuestBox();
        box2.Load(a => { a.mov(rax, 1UL << 23); a.mov(cr4, rax); }); // reserved CR4 bit
        Assert.Equal(StopReason.Exception, box2.Run());
        Assert.Equal(GuestFault.GeneralProtection, box2.Cpu.PendingException!.Value.Fault.Vector);
    }

    [Fact]
    public void DescriptorTablesAndTaskRegister()
    {
        using var box = new GuestBox();
        // GDT at 0x50000: null, code64, data, TSS (16 bytes) at index 3
        box.WriteU64(0x50000, 0);
        box.WriteU64(0x50008, 0x00AF9B000000FFFF);
        box.WriteU64(0x50010, 0x00CF93000000FFFF);
        box.WriteU64(0x50018, 0x0000890600000067); // TSS base 0x060000, limit 0x67, type 9
        box.WriteU64(0x50020, 0);
        box.WriteU64(0x51000, 0x0000_0005_0000_0027); // GDTR image: limit 0x27, base 0x50000
        box.WriteU64(0x51008, 0);
        box.Load(a =>
        {
            a.mov(rax, 0x51000); a.lgdt(__[rax]); a.lidt(__[rax]);
            a.mov(ax, 0x18); a.ltr(ax);
            a.mov(rax, 0x52000); a.sgdt(__[rax]);
            a.str(ebx);
            a.mov(ax, 0x10); a.mov(ds, ax); a.mov(ss, ax);
            a.hlt();
        });
        Assert.True(StopReason.Halted == box.Run(), box.Describe());
        Assert.Equal(0x50000UL, box.Cpu.Gdtr.Base);
        Assert.Equal(0x27, box.Cpu.Gdtr.Limit);
        Assert.Equal(0x50000UL, box.Cpu.Idtr.Base);
        Assert.Equal(0x60000UL, box.Cpu.Tr.Base);
        Assert.Equal(0x18UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0xBUL, (box.ReadU64(0x50018) >> 40) & 0xF); // busy
        Assert.Equal(0x0000_0005_0000_0027UL, box.ReadU64(0x52000));
        Assert.Equal(0x10, box.Cpu.Segments[Cpu.SS].Selector);
    }

    [Fact]
    public void ProtectedModeToLongModeThroughAFarJump()
    {
        using var box = new GuestBox(longMode: false);
        box.WriteU64(0x50000, 0);
        box.WriteU64(0x50008, 0x00AF9B000000FFFF); // 64-bit code
        box.WriteU64(0x50010, 0x00CF93000000FFFF); // data
        box.WriteU64(0x51000, 0x0000_0005_0000_0017);
        var a32 = new Assembler(32);
        var target = 0x3000UL;
        a32.mov(eax, 0x51000);
        a32.lgdt(__[eax]);
        a32.mov(eax, cr4); a32.or(eax, 0x20); a32.mov(cr4, eax);                // PAE
        a32.mov(ecx, 0xC0000080); a32.rdmsr(); a32.or(eax, 0x100); a32.wrmsr(); // LME
        a32.mov(eax, cr0); a32.or(eax, unchecked((int)0x80000001)); a32.mov(cr0, eax);
        a32.jmp(0x08, (uint)target);
        var w = new Bench.Differential.ByteListWriter();
        a32.Assemble(w, GuestBox.CodeBase);
        box.LoadBytes(w.ToArray());
        box.Load(a => { a.mov(rax, 0x1122334455667788UL); a.hlt(); }, target, 64);
        Assert.Equal(32, box.Cpu.Bitness);
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(64, box.Cpu.Bitness);
        Assert.True(box.Cpu.LongModeActive);
        Assert.Equal(0x1122334455667788UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void IretqReturnsToUserMode()
    {
        using var box = new GuestBox();
        box.WriteU64(0x50000, 0);
        box.WriteU64(0x50008, 0x00AF9B000000FFFF);
        box.WriteU64(0x50010, 0x00CF93000000FFFF);
        box.WriteU64(0x50018, 0x00CFF3000000FFFF); // user data (sel 0x1B)
        box.WriteU64(0x50020, 0x00AFFB000000FFFF); // user code (sel 0x23)
        box.WriteU64(0x51000, 0x0000_0005_0000_0027);
        box.Load(a =>
        {
            a.mov(rax, 0x51000); a.lgdt(__[rax]);
            a.push(0x1B); a.push(0x70000); a.push(0x202); a.push(0x23); a.push(0x3000);
            a.iretq();
        });
        box.Load(a => { a.mov(ebx, 7); a.hlt(); }, 0x3000);
        Assert.True(StopReason.Exception == box.Run(), box.Describe());
        Assert.Equal(3, box.Cpu.Cpl);
        Assert.Equal(7UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0x70000UL, box.Cpu.Gpr[Cpu.RSP]);
        Assert.Equal(0x202UL, box.Cpu.Rflags);
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector); // hlt at CPL 3
    }

    [Fact]
    public void SoftwareInterruptsAreReportedWithTheNextRip()
    {
        using var box = new GuestBox();
        box.Load(a => { a.nop(); a.@int(0x80); });
        Assert.Equal(StopReason.Exception, box.Run());
        var p = box.Cpu.PendingException!.Value;
        Assert.True(p.IsSoftwareInterrupt);
        Assert.Equal(0x80, p.Fault.Vector);
        Assert.Equal(GuestBox.CodeBase + 3, box.Cpu.Rip);
        Assert.Equal(GuestBox.CodeBase + 1, p.InstructionRip);

        using var box2 = new GuestBox();
        box2.Load(a => a.int3());
        box2.Run();
        Assert.Equal(GuestFault.Breakpoint, box2.Cpu.PendingException!.Value.Fault.Vector);
    }

    public static TheoryData<string, byte[], byte> FaultingInstructions => new()
    {
        { "div by zero", [0x31, 0xC9, 0xF7, 0xF1], GuestFault.DivideError },                  // xor ecx,ecx; div ecx
        { "idiv overflow", [0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x48, 0x99, 0x48, 0xC7, 0xC1, 0xFF, 0xFF, 0xFF, 0xFF, 0x48, 0xF7, 0xF9], GuestFault.DivideError },
        { "div quotient overflow", [0xBA, 1, 0, 0, 0, 0xB9, 1, 0, 0, 0, 0xF7, 0xF1], GuestFault.DivideError },
        { "ud2", [0x0F, 0x0B], GuestFault.InvalidOpcode },
        { "cmpxchg16b unaligned", [0x48, 0xC7, 0xC0, 0x08, 0x00, 0x04, 0x00, 0x48, 0x0F, 0xC7, 0x08], GuestFault.GeneralProtection },
        { "movaps unaligned", [0x48, 0xC7, 0xC0, 0x08, 0x00, 0x04, 0x00, 0x0F, 0x28, 0x00], GuestFault.GeneralProtection },
        { "read outside memory", [0x48, 0xB8, 0, 0, 0, 0, 1, 0, 0, 0, 0x48, 0x8B, 0x00], GuestFault.PageFault },
        { "jump outside memory", [0x48, 0xB8, 0, 0, 0, 0, 1, 0, 0, 0, 0xFF, 0xE0], GuestFault.PageFault },
        { "mov to cs", [0x8E, 0xC8], GuestFault.InvalidOpcode },
    };

    [Theory]
    [MemberData(nameof(FaultingInstructions))]
    public void FaultsAreReportedNotThrown(string name, byte[] code, byte vector)
    {
        using var box = new GuestBox();
        box.LoadBytes(code);
        var stop = box.Run();
        Assert.True(stop == StopReason.Exception, name);
        Assert.Equal(vector, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.True(box.Cpu.Rip >= GuestBox.CodeBase && box.Cpu.Rip < box.CodeEnd || vector == GuestFault.PageFault, $"{name}: rip 0x{box.Cpu.Rip:x}");
        if (vector == GuestFault.PageFault)
        {
            Assert.Equal(0x1_0000_0000UL, box.Cpu.Cr2);
        }
    }

    [Fact]
    public void UnimplementedInstructionsRaiseUdWithDiagnosticsUndefinedOnesAPlainUd()
    {
        using var box = new GuestBox();
        box.LoadBytes([0x90, 0xD9, 0xE8]); // nop; fld1 (x87 is not implemented)
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.InvalidOpcode, box.Cpu.PendingException!.Value.Fault.Vector);
        var d = Assert.Single(box.Cpu.Diagnostics);
        Assert.Equal("fld1", d.Mnemonic);
        Assert.Equal(new byte[] { 0xD9, 0xE8 }, d.Bytes);
        Assert.Equal(GuestBox.CodeBase + 1, d.Rip);
        Assert.Equal(1, box.Cpu.DiagnosticsRaised);

        using var box2 = new GuestBox();
        box2.LoadBytes([0x06]); // push es: invalid in 64-bit mode
        Assert.Equal(StopReason.Exception, box2.Run());
        Assert.Equal(GuestFault.InvalidOpcode, box2.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Empty(box2.Cpu.Diagnostics);                 // architecturally undefined: a plain #UD
        Assert.Equal(0, box2.Cpu.DiagnosticsRaised);

        using var box3 = new GuestBox();
        box3.LoadBytes([0xC5, 0xF8, 0x58, 0xC1]); // vaddps: AVX not implemented
        box3.Run();
        Assert.Equal("vaddps", Assert.Single(box3.Cpu.Diagnostics).Mnemonic);
    }

    [Fact]
    public void SelfModifyingCodeIsSeen()
    {
        using var box = new GuestBox();
        // the loop body's "add eax, 1" (05 imm32) immediate is rewritten to 100 on the first pass
        box.LoadBytes(
        [
            0x31, 0xC0,                                     // xor eax, eax
            0xB9, 0x02, 0x00, 0x00, 0x00,                   // mov ecx, 2
            0x05, 0x01, 0x00, 0x00, 0x00,                   // again: add eax, 1
            0x48, 0x8D, 0x15, 0xF4, 0xFF, 0xFF, 0xFF,       // lea rdx, [again]
            0xC7, 0x42, 0x01, 0x64, 0x00, 0x00, 0x00,       // mov dword [rdx+1], 100
            0xFF, 0xC9,                                     // dec ecx
            0x75, 0xE9,                                     // jnz again
            0xF4,                                           // hlt
        ]);
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(101UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void FxsaveFxrstorRoundTripAndFninit()
    {
        using var box = new GuestBox();
        box.Load(a =>
        {
            a.fninit();
            a.mov(rax, 0x40000);
            a.mov(rbx, 0x3FF0000000000000UL); a.movq(xmm3, rbx);
            a.fxsave(__[rax]);
            a.pxor(xmm3, xmm3);
            a.fxrstor(__[rax]);
            a.movq(rcx, xmm3);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x3FF0000000000000UL, box.Cpu.Gpr[Cpu.RCX]);
        Assert.Equal(0x37FUL, box.ReadU64(0x40000) & 0xFFFF);
        Assert.Equal(0x1F80UL, box.ReadU64(0x40000 + 24) & 0xFFFF_FFFF);
    }

    [Fact]
    public void XsetbvAndRdtsc()
    {
        using var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 18;
        box.Load(a => { a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 3); a.xsetbv(); a.rdtsc(); a.mov(r8, rax); a.nop(); a.rdtsc(); a.hlt(); });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(3UL, box.Cpu.Xcr0);
        Assert.True(box.Cpu.Gpr[Cpu.RAX] > box.Cpu.Gpr[8]);

        using var box2 = new GuestBox();
        box2.Cpu.Cr4 |= 1UL << 18;
        box2.Load(a => { a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 2); a.xsetbv(); }); // x87 bit clear -> #GP
        Assert.Equal(StopReason.Exception, box2.Run());
        Assert.Equal(GuestFault.GeneralProtection, box2.Cpu.PendingException!.Value.Fault.Vector);
    }

    private sealed class Hypervisor : IHypercallHandler
    {
        public GuestFault? Hypercall(Cpu cpu, bool isVmmcall)
        {
            cpu.Gpr[Cpu.RAX] = isVmmcall ? 2UL : 1UL;
            return null;
        }
    }

    [Fact]
    public void HypercallsGoToTheHandlerOrUd()
    {
        using var box = new GuestBox();
        box.Cpu.Hypercalls = new Hypervisor();
        box.Load(a => { a.vmcall(); a.mov(ebx, eax); a.vmmcall(); a.hlt(); });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(1UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(2UL, box.Cpu.Gpr[Cpu.RAX]);

        using var box2 = new GuestBox();
        box2.Load(a => a.vmcall());
        Assert.Equal(StopReason.Exception, box2.Run());
        Assert.Equal(GuestFault.InvalidOpcode, box2.Cpu.PendingException!.Value.Fault.Vector);
    }

    [Fact]
    public void ThirtyTwoBitProtectedModeStackAndCalls()
    {
        using var box = new GuestBox(longMode: false);
        box.Load(a =>
        {
            var f = a.CreateLabel();
            a.mov(esp, 0x80000);
            a.push(0x11223344);
            a.call(f);
            a.pop(ebx);
            a.hlt();
            a.Label(ref f);
            a.mov(eax, __dword_ptr[esp + 4]);
            a.ret();
        });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x11223344UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(0x11223344UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0x80000UL, box.Cpu.Gpr[Cpu.RSP]);
    }

    [Fact]
    public void SyscallAndSysret()
    {
        using var box = new GuestBox();
        box.Cpu.Efer |= 1;
        box.Cpu.Star = (0x10UL << 48) | (0x08UL << 32);
        box.Cpu.Lstar = 0x3000;
        box.Cpu.Sfmask = Flag.IF;
        box.Load(a => { a.mov(r11, 0x202); a.syscall(); a.hlt(); });
        box.Load(a => { a.mov(esi, 9); a.sysretq(); }, 0x3000);
        box.Cpu.Rflags |= Flag.IF;
        var stop = box.Run();
        Assert.Equal(StopReason.Exception, stop); // hlt at CPL 3 after sysret
        Assert.Equal(3, box.Cpu.Cpl);
        Assert.Equal(9UL, box.Cpu.Gpr[Cpu.RSI]);
        Assert.Equal(0x23, box.Cpu.Segments[Cpu.CS].Selector);
    }
}
