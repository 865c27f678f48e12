using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// VMCALL/VMMCALL (docs/abi.md section 3): RAX = number, arguments in RBX, RCX, RDX, RSI, the
/// result in RAX; every other register preserved. HekiGuest numbers are hypercall base + VERSION,
/// LOCK_CR, PROTECT_MEMORY; heki-v3 has only LOCK_CR_UPDATE (13). Every argument is validated
/// before anything changes; an unknown number is -1000 (KVM's ENOSYS).
/// </summary>
public sealed class HekiHypercalls(HekiHost host) : IHypercallHandler
{
    /// <summary>Size of one HekiRange entry in guest memory.</summary>
    public const int RangeBytes = 24;

    public long Calls { get; private set; }

    public GuestFault? Hypercall(Cpu.Cpu cpu, bool isVmmcall)
    {
        Calls++;
        ulong nr = cpu.Bitness == 64 ? cpu.ReadGpr(Cpu.Cpu.RAX) : cpu.ReadGpr(Cpu.Cpu.RAX) & 0xFFFF_FFFF;
        ulong a0 = cpu.ReadGpr(Cpu.Cpu.RBX), a1 = cpu.ReadGpr(Cpu.Cpu.RCX), a2 = cpu.ReadGpr(Cpu.Cpu.RDX);
        long result;
        if (cpu.Cpl != 0)
        {
            // KVM answers every hypercall from CPL > 0 with -EPERM without looking at it.
            result = HekiError.PermissionDenied;
            host.Deny(new DenialEvent(DenialKind.Hypercall, HekiHost.Vcpu, cpu.CurrentInstructionRip) { Hypercall = nr, Error = result });
        }
        else
        {
            result = Dispatch(cpu, nr, a0, a1, a2);
        }
        cpu.WriteGpr(Cpu.Cpu.RAX, (ulong)result);
        return null;
    }

    private long Dispatch(Cpu.Cpu cpu, ulong nr, ulong a0, ulong a1, ulong a2)
    {
        switch (host.Profile)
        {
            case HekiHostProfile.Heki when nr >= host.HypercallBase && nr - host.HypercallBase <= HekiHypercall.ProtectMemory:
                return (uint)(nr - host.HypercallBase) switch
                {
                    HekiHypercall.Version => HekiCpuid.AbiVersion,
                    HekiHypercall.LockCr => LockCr(cpu, a0, a1, a2),
                    _ => ProtectMemory(cpu, a0, a1, a2),
                };
            case HekiHostProfile.HekiV3 when nr == HekiCompat.HekiV3LockCrUpdate:
                return LockCr(cpu, a0, a1, a2);
            default:
                return HekiError.NoSuchHypercall;
        }
    }

    /// <summary>LOCK_CR(cr, bits, flags), also heki-v3's LOCK_CR_UPDATE: pins bits high.</summary>
    private long LockCr(Cpu.Cpu cpu, ulong cr, ulong bits, ulong flags)
    {
        if (flags == HekiHypercall.LockCrFlagVersion)
        {
            return cr == 0 && bits == 0 ? HekiCpuid.AbiVersion : HekiError.InvalidArgument;
        }
        if (flags != 0 || cr > 4 || !CrPinState.IsPinnable((int)cr) || bits == 0) return HekiError.InvalidArgument;
        int reg = (int)cr;
        ulong merged = host.Pins.PinnedHigh(reg) | bits;
        if (host.Pins.TryGuestSet(reg, high: true, merged) is not null) return HekiError.InvalidArgument;
        host.Configured(host.PinEvent(ConfigureSource.Hypercall, reg, cpu.CurrentInstructionRip));
        return HekiError.Success;
    }

    /// <summary>PROTECT_MEMORY(gpa of HekiRange[], count, flags).</summary>
    private long ProtectMemory(Cpu.Cpu cpu, ulong gpa, ulong count, ulong flags)
    {
        var map = host.Permissions;
        if (flags != 0 || count == 0) return HekiError.InvalidArgument;
        if (count > map.MaxRangesPerCall) return HekiError.TooBig;
        if ((gpa & 7) != 0) return HekiError.InvalidArgument;
        ulong bytes = count * RangeBytes;
        if (gpa > map.MemorySize || map.MemorySize - gpa < bytes) return HekiError.BadAddress;

        // the host reads the array for the guest: the permission map governs it like a guest read
        Span<byte> memory = bytes <= 4096 ? stackalloc byte[(int)bytes] : new byte[bytes];
        if (!host.TryReadForGuest(cpu, gpa, memory)) return HekiError.BadAddress;
        var ranges = new HekiRange[count];
        for (int i = 0; i < ranges.Length; i++)
        {
            var entry = memory.Slice(i * RangeBytes, RangeBytes);
            ranges[i] = new HekiRange
            {
                GuestPhysicalStart = BinaryPrimitives.ReadUInt64LittleEndian(entry),
                PageCount = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]),
                Permissions = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]),
            };
        }
        long result = map.Apply(ranges);
        if (result == HekiError.PermissionDenied)
        {
            host.Deny(new DenialEvent(DenialKind.ProtectMemory, HekiHost.Vcpu, cpu.CurrentInstructionRip)
            {
                Error = result, Hypercall = host.HypercallBase + HekiHypercall.ProtectMemory,
            });
        }
        else if (result == HekiError.Success)
        {
            cpu.FlushTlb();
            host.Configured(new ConfigureEvent(ConfigureSource.Hypercall, HekiHost.Vcpu, cpu.CurrentInstructionRip)
            {
                Ranges = Accepted(ranges),
            });
        }
        return result;
    }

    private static ProtectedRange[] Accepted(HekiRange[] ranges)
    {
        var accepted = new ProtectedRange[ranges.Length];
        for (int i = 0; i < ranges.Length; i++)
        {
            accepted[i] = new ProtectedRange(ranges[i].GuestPhysicalStart, ranges[i].PageCount, ranges[i].Permissions);
        }
        return accepted;
    }
}
