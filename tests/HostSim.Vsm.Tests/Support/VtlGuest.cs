using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>
/// The VTL set-up of docs/vtl.md section 6 on a <see cref="VsmGuestMachine"/>: EnablePartitionVtl
/// and EnableVpVtl inputs written into the input page, and a VTL1 context copied from the CPU's
/// own (VTL0) state with its own RIP, RSP and CR3 (a second PML4 at <see cref="Vtl1Pml4"/> over
/// the same tables).
/// </summary>
internal static class VtlGuest
{
    public const ulong Vtl1Pml4 = 0x4000, Vtl1Code = 0x40000, Vtl1StackTop = 0x60000;
    public const ulong ReturnRax = 0xAAAA_0000_AAAA, ReturnRcx = 0xCCCC_0000_CCCC;
    private static readonly ulong In = VsmGuestMachine.InputPage, Out = VsmGuestMachine.OutputPage;

    public static ulong EnablePartitionVtl(VsmGuestMachine g, ulong partition = HvCall.PartitionSelf, byte vtl = 1, byte flags = 0, byte reserved = 0)
    {
        g.Vm.Memory.Slice(In, 16).Clear();
        g.WriteU64(In, partition);
        g.Vm.Memory.Slice(In + 8, 1)[0] = vtl;
        g.Vm.Memory.Slice(In + 9, 1)[0] = flags;
        g.Vm.Memory.Slice(In + 15, 1)[0] = reserved;
        return g.CallHypercallPage(HvCall.EnablePartitionVtl, In, Out);
    }

    /// <summary>EnableVpVtl with the context of <see cref="WriteContext"/>, edited by <paramref name="edit"/>.</summary>
    public static ulong EnableVpVtl(VsmGuestMachine g, uint vp = HvCall.VpSelf, byte vtl = 1, Action<Span<byte>>? edit = null, ulong at = 0)
    {
        ulong input = In + at;
        var block = g.Vm.Memory.Slice(input, HvVtl.VpInputSize);
        block.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(block, HvCall.PartitionSelf);
        BinaryPrimitives.WriteUInt32LittleEndian(block[HvVtl.VpVpIndexOffset..], vp);
        block[HvVtl.VpTargetVtlOffset] = vtl;
        WriteContext(g.Cpu, block.Slice(HvVtl.VpContextOffset, HvVtl.ContextSize));
        edit?.Invoke(block);
        return g.CallHypercallPage(HvCall.EnableVpVtl, input, Out);
    }

    /// <summary>The CPU's current state as an initial context, with VTL1's RIP, RSP and CR3.</summary>
    public static void WriteContext(Processor cpu, Span<byte> c)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextRip..], Vtl1Code);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextRsp..], Vtl1StackTop);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextRflags..], 2);
        Segment(c, HvVtl.ContextCs, cpu.Segments[Processor.CS]);
        Segment(c, HvVtl.ContextDs, cpu.Segments[Processor.DS]);
        Segment(c, HvVtl.ContextEs, cpu.Segments[Processor.ES]);
        Segment(c, HvVtl.ContextFs, cpu.Segments[Processor.FS]);
        Segment(c, HvVtl.ContextGs, cpu.Segments[Processor.GS]);
        Segment(c, HvVtl.ContextSs, cpu.Segments[Processor.SS]);
        Segment(c, HvVtl.ContextTr, cpu.Tr);
        Segment(c, HvVtl.ContextLdtr, cpu.Ldtr);
        Table(c, HvVtl.ContextIdtr, cpu.Idtr);
        Table(c, HvVtl.ContextGdtr, cpu.Gdtr);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextEfer..], cpu.Efer);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextCr0..], cpu.Cr0);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextCr3..], Vtl1Pml4);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextCr4..], cpu.Cr4);
        BinaryPrimitives.WriteUInt64LittleEndian(c[HvVtl.ContextPat..], cpu.Pat);
    }

    /// <summary>Hypercall page, VP assist page, VTL1's page tables, partition and VP VTL1 enabled.</summary>
    public static void EnableVtl1(VsmGuestMachine g, Action<Assembler> vtl1Body)
    {
        g.SetUpHypercalls();
        g.WriteU64(Vtl1Pml4, VsmGuestMachine.Pdpt | 7);
        g.Emit(Vtl1Code, vtl1Body);
        Assert.Equal(0UL, EnablePartitionVtl(g));
        Assert.Equal(0UL, EnableVpVtl(g));
        SetUpVtl1Msrs(g);
    }

    /// <summary>VTL1's own synthetic MSRs (they are per VTL and start at zero when VTL1 is
    /// enabled), set as host userspace would for a VTL1 prepared outside the guest: guest OS id,
    /// the hypercall page (the same page as VTL0's) and the VP assist page the host writes entry
    /// reasons and messages into.</summary>
    public static void SetUpVtl1Msrs(VsmGuestMachine g)
    {
        Assert.Equal(MsrResult.Handled, g.Host.Msrs.WriteFromHost(HvVtl.MaxVtl, HvMsr.GuestOsId, VsmGuestMachine.GuestOsId));
        Assert.Equal(MsrResult.Handled, g.Host.Msrs.WriteFromHost(HvVtl.MaxVtl, HvMsr.Hypercall, VsmGuestMachine.HypercallPageGpa | HvMsr.Enable));
        Assert.Equal(MsrResult.Handled, g.Host.Msrs.WriteFromHost(HvVtl.MaxVtl, HvMsr.VpAssistPage, VsmGuestMachine.AssistPage | HvMsr.Enable));
    }

    /// <summary>VTL1's handler: records what it sees in shared registers (RBX = CR3, RDI = its RIP,
    /// RDX = RSP, RSI = the entry reason), sets R9, the return RAX/RCX, and VTL-returns with
    /// control <paramref name="control"/>.</summary>
    public static void Handler(Assembler a, ulong control)
    {
        var here = a.CreateLabel();
        a.Label(ref here);
        a.mov(rbx, cr3);
        a.lea(rdi, __[here]);
        a.mov(rdx, rsp);
        a.mov(r10, VsmGuestMachine.AssistPage);
        a.mov(esi, __dword_ptr[r10 + (int)HvVpAssist.VtlEntryReasonOffset]);
        a.mov(r9, 0x9999UL);
        a.mov(rax, ReturnRax);
        a.mov(__qword_ptr[r10 + (int)HvVpAssist.VtlReturnRaxOffset], rax);
        a.mov(rax, ReturnRcx);
        a.mov(__qword_ptr[r10 + (int)HvVpAssist.VtlReturnRcxOffset], rax);
        a.mov(rcx, control);
        a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlReturnOffset);
        a.call(r11);
        a.hlt();
    }

    /// <summary>VTL0's side: VTL call, then record its own CR3 (R12) and RIP (R13) after the return.</summary>
    public static void Caller(Assembler a)
    {
        a.xor(ecx, ecx);
        a.mov(r11, VsmGuestMachine.HypercallPageGpa + HvHypercallPage.VtlCallOffset);
        a.call(r11);
        var after = a.CreateLabel();
        a.Label(ref after);
        a.mov(r12, cr3);
        a.lea(r13, __[after]);
    }

    private static void Segment(Span<byte> c, int offset, SegmentRegister s)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(c[(offset + HvVtl.SegmentBase)..], s.Base);
        BinaryPrimitives.WriteUInt32LittleEndian(c[(offset + HvVtl.SegmentLimit)..], s.Limit);
        BinaryPrimitives.WriteUInt16LittleEndian(c[(offset + HvVtl.SegmentSelector)..], s.Selector);
        BinaryPrimitives.WriteUInt16LittleEndian(c[(offset + HvVtl.SegmentAttributes)..], s.Attributes);
    }

    private static void Table(Span<byte> c, int offset, DescriptorTableRegister t)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(c[(offset + HvVtl.TableLimit)..], t.Limit);
        BinaryPrimitives.WriteUInt64LittleEndian(c[(offset + HvVtl.TableBase)..], t.Base);
    }
}
