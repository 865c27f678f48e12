using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>
/// A VTL1 driven by the test, step by step, on the whole machine (<see cref="VirtualMachine.Run"/>,
/// so secure intercepts and injected exceptions happen as in a real run). VTL1's entry point only
/// stops the machine (debug-exit): the test then looks at what VTL1 was given, and answers by
/// running a snippet in VTL1 (hypercalls whose results land in <see cref="Results"/>, then a fast
/// VTL return, then back to the entry point for the next entry). VTL0's code is
/// <see cref="VtlGuest.Caller"/> (the first VTL call) followed by the test's body and a
/// debug-exit with <see cref="Vtl0Done"/>. Handlers for vectors 0-31 exit with their vector.
/// Hypercalls clobber RAX, RCX, RDX, R8 and R11 (shared): VTL0 bodies use other registers.
/// </summary>
internal sealed class Vtl1Session
{
    public const ulong Entry = VtlGuest.Vtl1Code, Snippet = 0x48000, Results = 0x50000;
    public const ulong Handlers = 0x13000, Vtl1Pdpt = 0x5000, Vtl1Pd = 0x6000;
    public const byte Vtl0Done = 0x3D;
    private static readonly ulong Page = VsmGuestMachine.HypercallPageGpa;

    private Vtl1Session(VsmGuestMachine g) => G = g;

    public VsmGuestMachine G { get; }

    /// <summary>The address of VTL0's body (after the first VTL call).</summary>
    public ulong Body { get; private set; }

    /// <summary>Sets up VTL1, emits VTL0's code and runs until VTL1's first entry (the VTL call).</summary>
    public static Vtl1Session Start(VsmGuestMachine g, Action<Assembler> vtl0Body, byte partitionFlags = 0)
    {
        var s = new Vtl1Session(g);
        g.SetUpHypercalls();
        // VTL1's own page tables (same identity map), so its walks never touch VTL0's tables
        g.WriteU64(VtlGuest.Vtl1Pml4, Vtl1Pdpt | 7);
        g.WriteU64(Vtl1Pdpt, Vtl1Pd | 7);
        g.WriteU64(Vtl1Pd, 0x83);
        g.WriteU64(Vtl1Pd + 8, 0x0020_0000 | 0x87);
        g.Emit(Entry, a => { a.@out(0xF4, al); a.hlt(); });
        for (int v = 0; v < 32; v++)
        {
            byte vector = (byte)v;
            ulong handler = Handlers + (ulong)v * 0x20;
            g.Emit(handler, a => { a.mov(al, vector); a.@out(0xF4, al); a.hlt(); });
            ulong lo = (handler & 0xFFFF) | ((ulong)0x08 << 16) | (0x8EUL << 40) | (((handler >> 16) & 0xFFFF) << 48);
            g.WriteU64(VsmGuestMachine.Idt + (ulong)v * 16, lo);
            g.WriteU64(VsmGuestMachine.Idt + (ulong)v * 16 + 8, handler >> 32);
        }
        Assert.Equal(0UL, VtlGuest.EnablePartitionVtl(g, flags: partitionFlags));
        Assert.Equal(0UL, VtlGuest.EnableVpVtl(g));
        VtlGuest.SetUpVtl1Msrs(g);
        ulong at = VsmGuestMachine.Code;
        ulong body = g.Emit(at, VtlGuest.Caller);
        s.Body = body;
        g.Emit(body, a => { vtl0Body(a); a.mov(al, Vtl0Done); a.@out(0xF4, al); a.hlt(); });
        g.Cpu.Rip = at;
        s.RunUntilVtl(1);
        return s;
    }

    /// <summary>Runs the machine until the next debug-exit; returns the outcome.</summary>
    public MachineOutcome Run(long budget = 200_000)
    {
        G.Vm.DebugExit.Reset();
        return G.Vm.Run(new RunLimits(TimeSpan.FromSeconds(20), budget));
    }

    /// <summary>Runs and asserts the machine stopped in <paramref name="vtl"/> at a debug-exit.</summary>
    public MachineOutcome RunUntilVtl(int vtl)
    {
        var outcome = Run();
        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal(vtl, G.Host.CurrentVtl);
        return outcome;
    }

    /// <summary>In VTL1 (stopped at its entry): runs <paramref name="calls"/>, a fast VTL return, and
    /// VTL0 until the next stop (VTL1's next entry, VTL0's end or a VTL0 exception handler).</summary>
    public MachineOutcome Answer(Action<Assembler> calls)
    {
        Assert.Equal(1, G.Host.CurrentVtl);
        G.Emit(Snippet, a =>
        {
            calls(a);
            a.mov(ecx, (uint)HvVpAssist.VtlReturnFast);
            a.mov(r11, Page + HvHypercallPage.VtlReturnOffset);
            a.call(r11);
            a.mov(r11, Entry);
            a.jmp(r11);
        });
        G.Cpu.Rip = Snippet;
        return Run();
    }

    /// <summary>Emits a hypercall with input value <paramref name="input"/>, input and output GPAs;
    /// RAX (the result) is stored at <see cref="Results"/> + 8 * <paramref name="slot"/>.</summary>
    public static void Hypercall(Assembler a, ulong input, ulong inputGpa, ulong outputGpa, int slot)
    {
        a.mov(rcx, input);
        a.mov(rdx, inputGpa);
        a.mov(r8, outputGpa);
        a.mov(r11, Page + HvHypercallPage.HypercallOffset);
        a.call(r11);
        a.mov(r11, Results + (ulong)slot * 8);
        a.mov(__qword_ptr[r11], rax);
    }

    /// <summary>A VTL call from VTL0's body (clobbers RCX and R11).</summary>
    public static void VtlCall(Assembler a)
    {
        a.xor(ecx, ecx);
        a.mov(r11, Page + HvHypercallPage.VtlCallOffset);
        a.call(r11);
    }

    public ulong Result(int slot) => G.ReadU64(Results + (ulong)slot * 8);

    public static ulong Rep(ushort code, int count, int start = 0) => code | ((ulong)count << 32) | ((ulong)start << 48);

    /// <summary>Writes a ModifyVtlProtectionMask input block at <paramref name="at"/>.</summary>
    public void WriteProtect(ulong at, uint mask, byte inputVtl, params ulong[] pages)
    {
        var b = G.Vm.Memory.Slice(at, HvMapGpa.HeaderSize + pages.Length * 8);
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        BinaryPrimitives.WriteUInt32LittleEndian(b[HvMapGpa.MapFlagsOffset..], mask);
        b[HvMapGpa.InputVtlOffset] = inputVtl;
        for (int i = 0; i < pages.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(b[(HvMapGpa.HeaderSize + i * 8)..], pages[i]);
    }

    /// <summary>Writes a SetVpRegisters input block at <paramref name="at"/>.</summary>
    public void WriteSet(ulong at, byte inputVtl, params (uint Name, UInt128 Value)[] registers) => WriteSet(G, at, inputVtl, registers);

    public static void WriteSet(VsmGuestMachine g, ulong at, byte inputVtl, params (uint Name, UInt128 Value)[] registers)
    {
        var b = g.Vm.Memory.Slice(at, HvVpRegisters.HeaderSize + registers.Length * HvVpRegisters.SetElementSize);
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        BinaryPrimitives.WriteUInt32LittleEndian(b[HvVpRegisters.VpIndexOffset..], HvCall.VpSelf);
        b[HvVpRegisters.InputVtlOffset] = inputVtl;
        for (int i = 0; i < registers.Length; i++)
        {
            var e = b[(HvVpRegisters.HeaderSize + i * HvVpRegisters.SetElementSize)..];
            BinaryPrimitives.WriteUInt32LittleEndian(e, registers[i].Name);
            BinaryPrimitives.WriteUInt128LittleEndian(e[HvVpRegisters.SetValueOffset..], registers[i].Value);
        }
    }

    /// <summary>Writes a GetVpRegisters input block at <paramref name="at"/>.</summary>
    public static void WriteGet(VsmGuestMachine g, ulong at, byte inputVtl, params uint[] names)
    {
        var b = g.Vm.Memory.Slice(at, HvVpRegisters.HeaderSize + names.Length * 4);
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        BinaryPrimitives.WriteUInt32LittleEndian(b[HvVpRegisters.VpIndexOffset..], HvCall.VpSelf);
        b[HvVpRegisters.InputVtlOffset] = inputVtl;
        for (int i = 0; i < names.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(b[(HvVpRegisters.HeaderSize + i * 4)..], names[i]);
    }

    /// <summary>VsmPartitionConfig enabling VTL protection with <paramref name="defaultMask"/>.</summary>
    public static UInt128 ProtectionConfig(uint defaultMask = HvMapGpa.All, ulong extra = 0) =>
        HvPartitionConfig.EnableVtlProtection | ((ulong)defaultMask << HvPartitionConfig.DefaultMaskShift) | extra;

    /// <summary>VTL1's usual first answer: enable VTL protection (default all rights), then give
    /// <paramref name="pages"/> <paramref name="mask"/>; both results must be success.</summary>
    public MachineOutcome Protect(uint mask, params ulong[] pages)
    {
        const ulong setAt = VsmGuestMachine.InputPage, protectAt = VsmGuestMachine.InputPage + 0x100;
        WriteSet(setAt, 0, (HvRegister.VsmPartitionConfig, ProtectionConfig()));
        WriteProtect(protectAt, mask, 0, pages);
        var outcome = Answer(a =>
        {
            Hypercall(a, Rep(HvCall.SetVpRegisters, 1), setAt, 0, 0);
            Hypercall(a, Rep(HvCall.ModifyVtlProtectionMask, pages.Length), protectAt, 0, 1);
        });
        Assert.Equal(0UL | (1UL << 32), Result(0));
        Assert.Equal((ulong)pages.Length << 32, Result(1));
        return outcome;
    }

    /// <summary>VTL1 changes <paramref name="pages"/> to <paramref name="mask"/> and returns.</summary>
    public MachineOutcome Reprotect(uint mask, params ulong[] pages)
    {
        const ulong protectAt = VsmGuestMachine.InputPage + 0x200;
        WriteProtect(protectAt, mask, 0, pages);
        var outcome = Answer(a => Hypercall(a, Rep(HvCall.ModifyVtlProtectionMask, pages.Length), protectAt, 0, 2));
        Assert.Equal((ulong)pages.Length << 32, Result(2));
        return outcome;
    }

    /// <summary>The intercept message in the VP assist page.</summary>
    public ReadOnlySpan<byte> Message => G.Vm.Memory.Slice(VsmGuestMachine.AssistPage + HvVpAssist.InterceptMessageOffset, HvMessage.Size);

    public ReadOnlySpan<byte> Payload => Message[HvMessage.PayloadOffset..];

    public uint EntryReason => BinaryPrimitives.ReadUInt32LittleEndian(G.Vm.Memory.Slice(VsmGuestMachine.AssistPage + HvVpAssist.VtlEntryReasonOffset, 4));

    /// <summary>VTL0's saved RIP (while VTL1 runs).</summary>
    public ulong Vtl0Rip => G.Host.Partition.Vps[0].Saved(0)!.Rip;

    public static ulong HandlerOf(int vector) => Handlers + (ulong)vector * 0x20;

    public Processor Cpu => G.Cpu;
}
