using System.Buffers.Binary;
using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The checks the rep calls share (ModifyVtlProtectionMask, Get/SetVpRegisters; docs/vtl.md
/// section 10): memory form with a rep count and no variable header, the input block (header and
/// every element up to the rep count) inside one page, the partition id, the VP index and the
/// input-VTL byte.
/// </summary>
internal static class VsmRepCall
{
    /// <summary>Form and block checks: 3 for the fast form, no rep count or a variable header;
    /// 4 when the header and elements do not fit in the input page.</summary>
    public static ushort CheckForm(VsmHost host, HypercallInput input, ulong inputGpa, int headerSize, int elementSize, out ReadOnlySpan<byte> block)
    {
        block = default;
        if (input.Fast || !input.IsRep || input.VariableHeaderQwords != 0) return HvStatus.InvalidHypercallInput;
        return host.TryReadInput(inputGpa, headerSize + input.RepCount * elementSize, out block) ? HvStatus.Success : HvStatus.InvalidAlignment;
    }

    /// <summary>Partition id self only (0xD), VP index 0 or self (0xE).</summary>
    public static ushort CheckTarget(ReadOnlySpan<byte> header, VirtualProcessorVtls caller, bool hasVpIndex)
    {
        if (BinaryPrimitives.ReadUInt64LittleEndian(header) != HvCall.PartitionSelf) return HvStatus.InvalidPartitionId;
        if (!hasVpIndex) return HvStatus.Success;
        uint vp = BinaryPrimitives.ReadUInt32LittleEndian(header[HvVpRegisters.VpIndexOffset..]);
        return vp == caller.Index || vp == HvCall.VpSelf ? HvStatus.Success : HvStatus.InvalidVpIndex;
    }

    /// <summary>
    /// The input-VTL byte: bits 7:5 reserved, and target bits without the use-target bit (5); an
    /// explicit target above the highest VTL (5); a target above the caller's VTL (6, a lower VTL
    /// never reaches a higher one). Without the use-target bit the target is
    /// <paramref name="implicitTarget"/>.
    /// </summary>
    public static ushort ResolveVtl(byte inputVtl, int callerVtl, int implicitTarget, out int target)
    {
        target = implicitTarget;
        if ((inputVtl & HvInputVtl.Reserved) != 0) return HvStatus.InvalidParameter;
        if ((inputVtl & HvInputVtl.UseTargetVtl) == 0) return (inputVtl & HvInputVtl.TargetVtlMask) == 0 ? HvStatus.Success : HvStatus.InvalidParameter;
        int explicitTarget = inputVtl & HvInputVtl.TargetVtlMask;
        if (explicitTarget > HvVtl.MaxVtl) return HvStatus.InvalidParameter;
        if (explicitTarget > callerVtl) return HvStatus.AccessDenied;
        target = explicitTarget;
        return HvStatus.Success;
    }
}
