using HekiGuest.Abi;
using HekiGuest.Sdk;

namespace HekiGuest.Vtl1Monitor;

// The monitor's Hyper-V calls (docs/vtl.md sections 9 and 10), all through one input page of
// the monitor's own memory. Each returns the HV status (result bits 15:0).
public static unsafe class HvClient
{
    private static byte* s_io;
    private const int MaxProtectReps = 500;

    public static void Initialize(byte* ioPage) => s_io = ioPage;

    private static ushort Status(ulong result) => (ushort)(result & HvHypercallInput.StatusMask);

    private static ulong RepInput(ushort code, int count) => code | ((ulong)count << HvHypercallInput.RepCountShift);

    /// <summary>One register of <paramref name="inputVtl"/> (0: the caller's own; UseTargetVtl|0: VTL0's).</summary>
    public static ushort SetRegister(byte inputVtl, uint name, ulong value)
    {
        Clear(HvVpRegisters.HeaderSize + HvVpRegisters.SetElementSize);
        *(ulong*)s_io = HvCall.PartitionSelf;
        *(uint*)(s_io + HvVpRegisters.VpIndexOffset) = HvCall.VpSelf;
        s_io[HvVpRegisters.InputVtlOffset] = inputVtl;
        byte* e = s_io + HvVpRegisters.HeaderSize;
        *(uint*)e = name;
        *(ulong*)(e + HvVpRegisters.SetValueOffset) = value;
        return Status(VtlCall.Hypercall(RepInput(HvCall.SetVpRegisters, 1), (ulong)s_io, 0));
    }

    /// <summary>A 16-byte register value (segment and table records): low and high 8 bytes.</summary>
    public static ushort SetRegister128(byte inputVtl, uint name, ulong low, ulong high)
    {
        Clear(HvVpRegisters.HeaderSize + HvVpRegisters.SetElementSize);
        *(ulong*)s_io = HvCall.PartitionSelf;
        *(uint*)(s_io + HvVpRegisters.VpIndexOffset) = HvCall.VpSelf;
        s_io[HvVpRegisters.InputVtlOffset] = inputVtl;
        byte* e = s_io + HvVpRegisters.HeaderSize;
        *(uint*)e = name;
        *(ulong*)(e + HvVpRegisters.SetValueOffset) = low;
        *(ulong*)(e + HvVpRegisters.SetValueOffset + 8) = high;
        return Status(VtlCall.Hypercall(RepInput(HvCall.SetVpRegisters, 1), (ulong)s_io, 0));
    }

    public static ushort GetRegister128(byte inputVtl, uint name, out ulong low, out ulong high)
    {
        ushort status = GetRegister(inputVtl, name, out low);
        high = *(ulong*)(s_io + 2048 + 8);
        return status;
    }

    public static ushort GetRegister(byte inputVtl, uint name, out ulong value)
    {
        Clear(HvVpRegisters.HeaderSize + HvVpRegisters.GetElementSize);
        *(ulong*)s_io = HvCall.PartitionSelf;
        *(uint*)(s_io + HvVpRegisters.VpIndexOffset) = HvCall.VpSelf;
        s_io[HvVpRegisters.InputVtlOffset] = inputVtl;
        *(uint*)(s_io + HvVpRegisters.HeaderSize) = name;
        byte* output = s_io + 2048;
        *(ulong*)output = 0;
        *(ulong*)(output + 8) = 0;
        ushort status = Status(VtlCall.Hypercall(RepInput(HvCall.GetVpRegisters, 1), (ulong)s_io, (ulong)output));
        value = *(ulong*)output;
        return status;
    }

    /// <summary>Gives VTL0 <paramref name="mask"/> on every page of [start, end).</summary>
    public static ushort ProtectVtl0(ulong start, ulong end, uint mask)
    {
        for (ulong page = start >> 12; page < end >> 12;)
        {
            int n = 0;
            Clear(HvMapGpa.HeaderSize);
            *(ulong*)s_io = HvCall.PartitionSelf;
            *(uint*)(s_io + HvMapGpa.MapFlagsOffset) = mask;
            s_io[HvMapGpa.InputVtlOffset] = 0;      // the VTL below the caller: VTL0
            ulong* pages = (ulong*)(s_io + HvMapGpa.HeaderSize);
            while (n < MaxProtectReps && page < end >> 12) pages[n++] = page++;
            ushort status = Status(VtlCall.Hypercall(RepInput(HvCall.ModifyVtlProtectionMask, n), (ulong)s_io, 0));
            if (status != HvStatus.Success) return status;
        }
        return HvStatus.Success;
    }

    // 8 bytes at a time (the input page is page-aligned): a third of a policy-checked write's
    // guest instructions went to a byte loop here
    private static void Clear(int bytes)
    {
        int i = 0;
        for (; i + 8 <= bytes; i += 8) *(ulong*)(s_io + i) = 0;
        for (; i < bytes; i++) s_io[i] = 0;
    }
}
