using System.Buffers.Binary;
using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// ModifyVtlProtectionMask (0x000C), a rep call over guest page numbers (docs/vtl.md section 9):
/// a higher VTL sets what a lower VTL may do with each page (READ, WRITE, KERNEL_EXECUTE,
/// USER_EXECUTE). Only VTL1 calls it (VTL0 has no lower VTL: access denied), only after it enabled
/// VTL protection in VsmPartitionConfig (invalid partition state). Pages are changed one by one
/// from the rep start index; a page outside RAM stops the call (invalid parameter) with the reps
/// completed so far. Every cached translation is dropped so the next access meets the new mask.
/// </summary>
public sealed class ProtectionHypercall(VsmHost host, VsmPartition partition)
{
    public (ushort Status, int Reps) Modify(Cpu.Cpu cpu, VirtualProcessorVtls vp, HypercallInput input, ulong inputGpa)
    {
        ushort status = VsmRepCall.CheckForm(host, input, inputGpa, HvMapGpa.HeaderSize, HvMapGpa.ElementSize, out var block);
        if (status != HvStatus.Success) return (status, 0);
        status = VsmRepCall.CheckTarget(block, vp, hasVpIndex: false);
        if (status != HvStatus.Success) return (status, 0);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(block[HvMapGpa.MapFlagsOffset..]);
        if ((flags & ~HvMapGpa.All) != 0 || ((flags & HvMapGpa.Write) != 0 && (flags & HvMapGpa.Read) == 0)) return (HvStatus.InvalidParameter, 0);
        if (block[(HvMapGpa.InputVtlOffset + 1)..HvMapGpa.HeaderSize].ContainsAnyExcept((byte)0)) return (HvStatus.InvalidParameter, 0);
        if (vp.CurrentVtl == 0) return (HvStatus.AccessDenied, 0);
        status = VsmRepCall.ResolveVtl(block[HvMapGpa.InputVtlOffset], vp.CurrentVtl, vp.CurrentVtl - 1, out int target);
        if (status != HvStatus.Success) return (status, 0);
        // only a lower VTL's memory is protected, and (hostsim) VTL0 is the only one below VTL1
        if (target >= vp.CurrentVtl) return (HvStatus.AccessDenied, 0);
        var map = partition.Vtl0Protections;
        if (!map.Enabled) return (HvStatus.InvalidPartitionState, 0);
        int done = input.RepStart;
        ushort result = HvStatus.Success;
        ulong first = 0;
        for (int i = input.RepStart; i < input.RepCount; i++)
        {
            ulong page = BinaryPrimitives.ReadUInt64LittleEndian(block[(HvMapGpa.HeaderSize + i * HvMapGpa.ElementSize)..]);
            if (page >= map.PageCount)
            {
                result = HvStatus.InvalidParameter;
                break;
            }
            if (i == input.RepStart) first = page;
            map.Set(page, flags);
            done = i + 1;
        }
        if (done > input.RepStart)
        {
            cpu.FlushTlb();
            host.ProtectionChanged(VsmProtectionScope.Pages, first << 12, (ulong)(done - input.RepStart), flags);
        }
        return (result, result == HvStatus.Success ? input.RepCount : done);
    }
}
