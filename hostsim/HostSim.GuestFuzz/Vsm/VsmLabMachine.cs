using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Vsm;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.GuestFuzz.Vsm;

/// <summary>
/// A 4 MiB 64-bit guest on the VSM host with VTL1 enabled (linked into the VSM fuzzer and
/// `make bench-vtl`): identity-mapped 2 MiB pages (0-2 MiB supervisor, 2-4 MiB user), VTL1 with
/// its own page tables over the same map, a GDT/TSS/IDT whose handlers stop the machine
/// (debug-exit <see cref="HandlerExit"/>), the hypercall page, an input and output page and the VP
/// assist page. Code is emitted with Iced into <see cref="Vtl0Code"/> or <see cref="Vtl1Code"/>
/// and run on the whole machine until a debug-exit.
/// </summary>
internal sealed class VsmLabMachine : IDisposable
{
    public const ulong MemorySize = 4 << 20;
    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, Vtl1Pml4 = 0x4000, Vtl1Pdpt = 0x5000, Vtl1Pd = 0x6000;
    public const ulong Gdt = 0x10000, Tss = 0x11000, Idt = 0x12000, Handlers = 0x13000;
    public const ulong Vtl0Code = 0x30000, Vtl1Code = 0x48000, Vtl1StackTop = 0x60000, Vtl0StackTop = 0x70000, Rsp0 = 0x80000;
    public const ulong HypercallPage = 0xA0000, InputPage = 0xA1000, OutputPage = 0xA2000, AssistPage = 0xA3000;
    public const byte HandlerExit = 0xEE, SnippetExit = 0x5D;

    public VsmLabMachine(bool mbec)
    {
        Vm = new VirtualMachine(MemorySize, _ => { });
        W64(Pml4, Pdpt | 7);
        W64(Pdpt, Pd | 7);
        W64(Pd, 0x83);
        W64(Pd + 8, 0x20_0000 | 0x87);
        W64(Vtl1Pml4, Vtl1Pdpt | 7);
        W64(Vtl1Pdpt, Vtl1Pd | 7);
        W64(Vtl1Pd, 0x83);
        W64(Vtl1Pd + 8, 0x20_0000 | 0x87);
        W64(Gdt + 0x08, 0x00AF_9A00_0000_FFFFUL);
        W64(Gdt + 0x10, 0x00CF_9200_0000_FFFFUL);
        W64(Gdt + 0x18, 0x00CF_F200_0000_FFFFUL);
        W64(Gdt + 0x20, 0x00AF_FA00_0000_FFFFUL);
        W64(Gdt + 0x30, 0x67UL | ((Tss & 0xFF_FFFF) << 16) | (0x89UL << 40));
        W64(Tss + 4, Rsp0);
        for (int v = 0; v < 32; v++)
        {
            ulong handler = Handlers + (ulong)v * 0x10;
            Emit(handler, a => { a.mov(al, HandlerExit); a.@out(0xF4, al); a.hlt(); });
            W64(Idt + (ulong)v * 16, (handler & 0xFFFF) | (0x08UL << 16) | (0x8EUL << 40) | (((handler >> 16) & 0xFFFF) << 48));
        }
        var cpu = Cpu;
        cpu.EnterFlatLongMode(0x08, 0x10);
        cpu.Cr3 = Pml4;
        cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x3F };
        cpu.Idtr = new DescriptorTableRegister { Base = Idt, Limit = 0x1FF };
        cpu.Tr = new SegmentRegister { Selector = 0x30, Base = Tss, Limit = 0x67, Attributes = 0x8B };
        cpu.Rflags = 0x2;
        cpu.WriteGpr(Processor.RSP, Vtl0StackTop);
        cpu.FlushTlb();
        Host = new VsmHost(Vm);

        // the guest's own set-up, as a VTL0 kernel does it
        Wrmsr(HvMsr.GuestOsId, 0x8100_0000_0000_0001);
        Wrmsr(HvMsr.Hypercall, HypercallPage | HvMsr.Enable);
        Wrmsr(HvMsr.VpAssistPage, AssistPage | HvMsr.Enable);
        var b = Vm.Memory.Slice(InputPage, HvVtl.VpInputSize);
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        b[HvVtl.PartitionTargetVtlOffset] = 1;
        b[HvVtl.PartitionFlagsOffset] = mbec ? HvVtl.EnableMbec : (byte)0;
        if (Call(HvCall.EnablePartitionVtl, InputPage, OutputPage) is not 0 and var s1) throw new InvalidOperationException($"EnablePartitionVtl: 0x{s1:x}");
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        BinaryPrimitives.WriteUInt32LittleEndian(b[HvVtl.VpVpIndexOffset..], HvCall.VpSelf);
        b[HvVtl.VpTargetVtlOffset] = 1;
        WriteContext(b.Slice(HvVtl.VpContextOffset, HvVtl.ContextSize));
        if (Call(HvCall.EnableVpVtl, InputPage, OutputPage) is not 0 and var s2) throw new InvalidOperationException($"EnableVpVtl: 0x{s2:x}");
        // VTL1's own synthetic MSRs (per VTL, zero when it is enabled): the lab sets them as host
        // userspace would, so VTL1's first snippet can make hypercalls and sees its entry reasons
        foreach (var (msr, value) in new[] { (HvMsr.GuestOsId, 0x8100_0000_0000_0001UL), (HvMsr.Hypercall, HypercallPage | HvMsr.Enable), (HvMsr.VpAssistPage, AssistPage | HvMsr.Enable) })
        {
            if (Host.Msrs.WriteFromHost(HvVtl.MaxVtl, msr, value) != MsrResult.Handled) throw new InvalidOperationException($"VTL1 MSR 0x{msr:x}");
        }
    }

    public VirtualMachine Vm { get; }
    public Processor Cpu => Vm.Cpu;
    public VsmHost Host { get; }

    /// <summary>The code area of the VTL the VP runs in now.</summary>
    public ulong CodeArea => Host.CurrentVtl == 0 ? Vtl0Code : Vtl1Code;

    /// <summary>Emits <paramref name="body"/> followed by RAX copied to R15 and a debug-exit into the current VTL's code area and runs from there.</summary>
    public MachineOutcome RunSnippet(Action<Assembler> body, long budget, TimeSpan timeout)
    {
        ulong at = CodeArea;
        // RAX (a hypercall's result) is kept in R15: the debug-exit needs AL
        Emit(at, a => { body(a); a.mov(r15, rax); a.mov(al, SnippetExit); a.@out(0xF4, al); a.hlt(); });
        Cpu.Rip = at;
        Vm.DebugExit.Reset();
        return Vm.Run(new RunLimits(timeout, budget));
    }

    /// <summary>A memory-form (or any) hypercall from the current VTL through the hypercall page; returns its result (RAX).</summary>
    public ulong Call(ulong input, ulong inputGpa, ulong outputGpa)
    {
        var outcome = RunSnippet(a =>
        {
            a.mov(AssemblerRegisters.rcx, input);
            a.mov(AssemblerRegisters.rdx, inputGpa);
            a.mov(AssemblerRegisters.r8, outputGpa);
            a.mov(r11, HypercallPage);
            a.call(r11);
        }, 1000, TimeSpan.FromSeconds(5));
        if (outcome.Kind != MachineStopKind.GuestExit) throw new InvalidOperationException($"hypercall snippet: {outcome.Summary}");
        return Cpu.ReadGpr(15);
    }

    public void Wrmsr(uint msr, ulong value)
    {
        var outcome = RunSnippet(a =>
        {
            a.mov(ecx, msr);
            a.mov(eax, (uint)(value & 0xFFFF_FFFF));
            a.mov(edx, (uint)(value >> 32));
            a.wrmsr();
        }, 100, TimeSpan.FromSeconds(5));
        if (outcome.Kind != MachineStopKind.GuestExit || Vm.DebugExit.Value != SnippetExit) throw new InvalidOperationException($"wrmsr 0x{msr:x}: {outcome.Summary}");
    }

    public ulong Emit(ulong at, Action<Assembler> body)
    {
        var a = new Assembler(64);
        body(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), at);
        stream.ToArray().CopyTo(Vm.Memory.Slice(at, (int)stream.Length));
        for (ulong page = at >> 12; page <= (at + (ulong)stream.Length) >> 12; page++) Cpu.InvalidateCodePage(page);
        return at + (ulong)stream.Length;
    }

    public void W64(ulong physical, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Vm.Memory.Slice(physical, 8), value);

    public ulong R64(ulong physical) => BinaryPrimitives.ReadUInt64LittleEndian(Vm.Memory.Slice(physical, 8));

    /// <summary>VTL1's initial context: the CPU's state, with VTL1's RIP, RSP and CR3.</summary>
    private void WriteContext(Span<byte> c)
    {
        var cpu = Cpu;
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextRip..], Vtl1Code);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextRsp..], Vtl1StackTop);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextRflags..], 2);
        int[] offsets = [HvVtl.ContextEs, HvVtl.ContextCs, HvVtl.ContextSs, HvVtl.ContextDs, HvVtl.ContextFs, HvVtl.ContextGs];
        for (int i = 0; i < 6; i++) Segment(c, offsets[i], cpu.Segments[i]);
        Segment(c, HvVtl.ContextTr, cpu.Tr);
        Segment(c, HvVtl.ContextLdtr, cpu.Ldtr);
        BinaryPrimitives.WriteUInt16LittleEndian(c[(HvVtl.ContextIdtr + HvVtl.TableLimit)..], cpu.Idtr.Limit);
        BinaryPrimitives.WriteUInt64LittleEndian(c[(HvVtl.ContextIdtr + HvVtl.TableBase)..], cpu.Idtr.Base);
        BinaryPrimitives.WriteUInt16LittleEndian(c[(HvVtl.ContextGdtr + HvVtl.TableLimit)..], cpu.Gdtr.Limit);
        BinaryPrimitives.WriteUInt64LittleEndian(c[(HvVtl.ContextGdtr + HvVtl.TableBase)..], cpu.Gdtr.Base);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextEfer..], cpu.Efer);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextCr0..], cpu.Cr0);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextCr3..], Vtl1Pml4);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextCr4..], cpu.Cr4);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextPat..], cpu.Pat);
    }

    private static void Segment(Span<byte> c, int offset, SegmentRegister s)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(c[(offset + HvVtl.SegmentBase)..], s.Base);
        BinaryPrimitives.WriteUInt32LittleEndian(c[(offset + HvVtl.SegmentLimit)..], s.Limit);
        BinaryPrimitives.WriteUInt16LittleEndian(c[(offset + HvVtl.SegmentSelector)..], s.Selector);
        BinaryPrimitives.WriteUInt16LittleEndian(c[(offset + HvVtl.SegmentAttributes)..], s.Attributes);
    }

    public void Dispose() => Vm.Dispose();
}
