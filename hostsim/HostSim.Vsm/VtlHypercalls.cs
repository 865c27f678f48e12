using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// EnablePartitionVtl, EnableVpVtl, VtlCall and VtlReturn (docs/vtl.md sections 6 and 7). The two
/// enables are memory-form calls answered with a status; the two switches are reached through
/// the hypercall page's VTL sequences and answer with a VTL switch or #UD, never a status. No
/// input makes the host throw.
/// </summary>
public sealed class VtlHypercalls(VsmHost host, VsmPartition partition)
{
    private const ulong ReturnControlReserved = ~HvVpAssist.VtlReturnFast;

    public ushort EnablePartitionVtl(VirtualProcessorVtls caller, HypercallInput input, ulong inputGpa)
    {
        ushort status = MemoryFormOnly(input);
        if (status != HvStatus.Success) return status;
        if (!host.TryReadInput(inputGpa, HvVtl.PartitionInputSize, out var block)) return HvStatus.InvalidAlignment;
        ulong partitionId = BinaryPrimitives.ReadUInt64LittleEndian(block);
        byte target = block[HvVtl.PartitionTargetVtlOffset];
        byte flags = block[HvVtl.PartitionFlagsOffset];
        if (partitionId != HvCall.PartitionSelf || target != HvVtl.MaxVtl) return HvStatus.InvalidParameter;
        if ((flags & ~HvVtl.EnableMbec) != 0 || block[(HvVtl.PartitionFlagsOffset + 1)..].ContainsAnyExcept((byte)0)) return HvStatus.InvalidParameter;
        if (partition.IsEnabled(target)) return HvStatus.VtlAlreadyEnabled;
        // only the highest enabled VTL may enable the next one (unreachable with VTL1 the maximum:
        // a caller above VTL0 means VTL1 is already enabled)
        if (caller.CurrentVtl != target - 1) return HvStatus.AccessDenied;
        partition.Enable(target, (flags & HvVtl.EnableMbec) != 0);
        host.VtlEvent(VsmVtlEvent.PartitionVtlEnabled, target);
        return HvStatus.Success;
    }

    public ushort EnableVpVtl(VirtualProcessorVtls caller, HypercallInput input, ulong inputGpa)
    {
        ushort status = MemoryFormOnly(input);
        if (status != HvStatus.Success) return status;
        if (!host.TryReadInput(inputGpa, HvVtl.VpInputSize, out var block)) return HvStatus.InvalidAlignment;
        ulong partitionId = BinaryPrimitives.ReadUInt64LittleEndian(block);
        uint vpIndex = BinaryPrimitives.ReadUInt32LittleEndian(block[HvVtl.VpVpIndexOffset..]);
        byte target = block[HvVtl.VpTargetVtlOffset];
        if (partitionId != HvCall.PartitionSelf || target != HvVtl.MaxVtl) return HvStatus.InvalidParameter;
        if (block[(HvVtl.VpTargetVtlOffset + 1)..HvVtl.VpContextOffset].ContainsAnyExcept((byte)0)) return HvStatus.InvalidParameter;
        if (vpIndex != caller.Index && vpIndex != HvCall.VpSelf) return HvStatus.InvalidParameter;
        if (!partition.IsEnabled(target)) return HvStatus.InvalidPartitionState;
        if (caller.IsEnabled(target)) return HvStatus.VtlAlreadyEnabled;
        status = VpInitialContext.TryParse(block.Slice(HvVtl.VpContextOffset, HvVtl.ContextSize), out var initial);
        if (status != HvStatus.Success) return status;
        caller.Enable(target, initial);
        // the new VTL's synthetic MSRs are its own and start at zero (it sets up its own pages)
        host.Msrs.Clear(target);
        host.VtlEvent(VsmVtlEvent.VpVtlEnabled, target);
        return HvStatus.Success;
    }

    /// <summary>
    /// HekiGuest's RemoveVtl1 extension (docs/vtl.md section 17): fast, from VTL1 only, RDX/R8 =
    /// the VTL0 RIP/RSP (canonical). Host userspace may refuse (<see cref="VsmHost.Vtl1RemovalAllowed"/>):
    /// access denied and a "vtl-remove-denied" event. Otherwise every page VTL0 cannot read is
    /// zeroed, the partition goes back to VTL0 only (VTL0 protections, intercepts, VTL1's saved
    /// state gone) and VTL0 resumes at RIP/RSP with its own other registers.
    /// </summary>
    public ushort RemoveVtl1(Cpu.Cpu cpu, VirtualProcessorVtls caller, HypercallInput input, ulong rip, ulong rsp)
    {
        if (!input.Fast || input.RepCount != 0 || input.VariableHeaderQwords != 0) return HvStatus.InvalidHypercallInput;
        if (caller.CurrentVtl != HvVtl.MaxVtl) return HvStatus.AccessDenied;
        if (!IsCanonical(rip) || !IsCanonical(rsp)) return HvStatus.InvalidParameter;
        if (host.Vtl1RemovalAllowed is { } allowed && !allowed())
        {
            host.VtlEvent(VsmVtlEvent.Vtl1RemovalDenied, caller.CurrentVtl);
            return HvStatus.AccessDenied;
        }
        host.ZeroPagesHiddenFromVtl0();
        caller.SwitchTo(cpu, 0);
        partition.Reset();
        cpu.Rip = rip;
        cpu.WriteGpr(Cpu.Cpu.RSP, rsp);
        host.Vtl1Removed();
        return HvStatus.Success;
    }

    private static bool IsCanonical(ulong address) => (ulong)((long)(address << 16) >> 16) == address;

    /// <summary>VTL call: to the next higher VTL, which must be enabled for this VP; #UD otherwise.
    /// The caller's RIP is already past the VMCALL of the page's sequence (its RET then returns to
    /// the caller when this VTL is resumed).</summary>
    public GuestFault? VtlCall(Cpu.Cpu cpu, VirtualProcessorVtls vp)
    {
        int target = vp.CurrentVtl + 1;
        if (!vp.IsEnabled(target)) return GuestFault.UD();
        vp.SwitchTo(cpu, target);
        host.WriteAssistU32(HvVpAssist.VtlEntryReasonOffset, HvVpAssist.EntryReasonVtlCall);
        host.VtlEvent(VsmVtlEvent.VtlCall, target);
        return null;
    }

    /// <summary>VTL return to the next lower VTL with control value <paramref name="control"/>
    /// (bit 0 fast; other bits reserved): #UD from VTL0 or with a reserved bit set. Unless fast,
    /// RAX and RCX come from the VP assist page's VTL control area (when the page is enabled).</summary>
    public GuestFault? VtlReturn(Cpu.Cpu cpu, VirtualProcessorVtls vp, ulong control)
    {
        if (vp.CurrentVtl == 0 || (control & ReturnControlReserved) != 0) return GuestFault.UD();
        int target = vp.CurrentVtl - 1;
        if ((control & HvVpAssist.VtlReturnFast) == 0 && host.TryReadAssistU64(HvVpAssist.VtlReturnRaxOffset, out ulong rax)
            && host.TryReadAssistU64(HvVpAssist.VtlReturnRcxOffset, out ulong rcx))
        {
            cpu.WriteGpr(Cpu.Cpu.RAX, rax);
            cpu.WriteGpr(Cpu.Cpu.RCX, rcx);
        }
        vp.SwitchTo(cpu, target);
        host.VtlEvent(VsmVtlEvent.VtlReturn, target);
        host.DeliverPendingEvent(vp, target);
        return null;
    }

    private static ushort MemoryFormOnly(HypercallInput input) =>
        input.Fast || input.IsRep || input.VariableHeaderQwords != 0 ? HvStatus.InvalidHypercallInput : HvStatus.Success;
}
