using System.Buffers.Binary;
using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// GetVpRegisters (0x0050) and SetVpRegisters (0x0051), rep calls (docs/vtl.md section 10). A VTL
/// reads and writes its own registers or, with the use-target bit, a lower VTL's; never a higher
/// one's (access denied). VTL0 may read its own registers but not set them (access denied): the
/// writes would go around the intercepts VTL1 set. Elements are processed from the rep start
/// index; the first that fails stops the call, and the result counts the reps completed.
/// </summary>
public sealed class VpRegisterHypercalls(VsmHost host, VpRegisterFile registers)
{
    public (ushort Status, int Reps) Get(Cpu.Cpu cpu, VirtualProcessorVtls vp, HypercallInput input, ulong inputGpa, ulong outputGpa)
    {
        ushort status = Header(vp, input, inputGpa, HvVpRegisters.GetElementSize, out var block, out int vtl);
        if (status != HvStatus.Success) return (status, 0);
        if (!host.CanWriteOutput(outputGpa, input.RepCount * HvVpRegisters.ValueSize)) return (HvStatus.InvalidAlignment, 0);
        Span<byte> value = stackalloc byte[HvVpRegisters.ValueSize];
        for (int i = input.RepStart; i < input.RepCount; i++)
        {
            uint name = BinaryPrimitives.ReadUInt32LittleEndian(block[(HvVpRegisters.HeaderSize + i * HvVpRegisters.GetElementSize)..]);
            status = registers.TryGet(cpu, vp, vtl, name, out var v);
            if (status != HvStatus.Success) return (status, i);
            BinaryPrimitives.WriteUInt128LittleEndian(value, v);
            host.WriteOutput(outputGpa + (ulong)(i * HvVpRegisters.ValueSize), value);
        }
        return (HvStatus.Success, input.RepCount);
    }

    public (ushort Status, int Reps) Set(Cpu.Cpu cpu, VirtualProcessorVtls vp, HypercallInput input, ulong inputGpa)
    {
        ushort status = Header(vp, input, inputGpa, HvVpRegisters.SetElementSize, out var block, out int vtl);
        if (status != HvStatus.Success) return (status, 0);
        if (vtl == 0 && vp.CurrentVtl == 0) return (HvStatus.AccessDenied, 0);
        for (int i = input.RepStart; i < input.RepCount; i++)
        {
            var element = block.Slice(HvVpRegisters.HeaderSize + i * HvVpRegisters.SetElementSize, HvVpRegisters.SetElementSize);
            uint name = BinaryPrimitives.ReadUInt32LittleEndian(element);
            if (element[4..HvVpRegisters.SetValueOffset].ContainsAnyExcept((byte)0)) return (HvStatus.InvalidParameter, i);
            var value = BinaryPrimitives.ReadUInt128LittleEndian(element[HvVpRegisters.SetValueOffset..]);
            status = registers.TrySet(cpu, vp, vtl, name, value);
            if (status != HvStatus.Success) return (status, i);
            host.RegisterSet(vtl, name, value);
        }
        return (HvStatus.Success, input.RepCount);
    }

    private ushort Header(VirtualProcessorVtls vp, HypercallInput input, ulong inputGpa, int elementSize, out ReadOnlySpan<byte> block, out int vtl)
    {
        vtl = vp.CurrentVtl;
        ushort status = VsmRepCall.CheckForm(host, input, inputGpa, HvVpRegisters.HeaderSize, elementSize, out block);
        if (status != HvStatus.Success) return status;
        status = VsmRepCall.CheckTarget(block, vp, hasVpIndex: true);
        if (status != HvStatus.Success) return status;
        if (block[(HvVpRegisters.InputVtlOffset + 1)..HvVpRegisters.HeaderSize].ContainsAnyExcept((byte)0)) return HvStatus.InvalidParameter;
        return VsmRepCall.ResolveVtl(block[HvVpRegisters.InputVtlOffset], vp.CurrentVtl, vp.CurrentVtl, out vtl);
    }
}
