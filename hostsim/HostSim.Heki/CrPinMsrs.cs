using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// The six CR-pinning MSRs (docs/abi.md section 2) at the HekiGuest MSR base, or at the June
/// 2020 numbers under cr-pin-2020. ALLOWED MSRs are read-only; PINNED MSRs accept only added
/// pins inside the ALLOWED mask. A refused write is #GP(0) plus a denial event; an accepted
/// one a configure event. Every other MSR is left to the CPU.
/// </summary>
public sealed class CrPinMsrs(HekiHost host) : IMsrHook
{
    public MsrResult Read(Cpu.Cpu cpu, uint msr, out ulong value)
    {
        value = 0;
        if (!TryOffset(msr, out uint offset)) return MsrResult.NotHandled;
        var pins = host.Pins;
        value = offset switch
        {
            HekiMsr.Cr0PinAllowed => CrPinState.Allowed(0),
            HekiMsr.Cr4PinAllowed => CrPinState.Allowed(4),
            HekiMsr.Cr0PinnedLow => pins.Cr0PinnedLow,
            HekiMsr.Cr0PinnedHigh => pins.Cr0PinnedHigh,
            HekiMsr.Cr4PinnedLow => pins.Cr4PinnedLow,
            _ => pins.Cr4PinnedHigh,
        };
        return MsrResult.Handled;
    }

    public MsrResult Write(Cpu.Cpu cpu, uint msr, ulong value)
    {
        if (!TryOffset(msr, out uint offset)) return MsrResult.NotHandled;
        string? refusal = offset switch
        {
            HekiMsr.Cr0PinAllowed or HekiMsr.Cr4PinAllowed => "ALLOWED MSRs are read-only",
            HekiMsr.Cr0PinnedLow => host.Pins.TryGuestSet(0, high: false, value),
            HekiMsr.Cr0PinnedHigh => host.Pins.TryGuestSet(0, high: true, value),
            HekiMsr.Cr4PinnedLow => host.Pins.TryGuestSet(4, high: false, value),
            _ => host.Pins.TryGuestSet(4, high: true, value),
        };
        if (refusal is not null)
        {
            host.Deny(new DenialEvent(DenialKind.MsrWrite, HekiHost.Vcpu, cpu.CurrentInstructionRip) { Msr = msr, Value = value });
            return MsrResult.GeneralProtection;
        }
        int cr = offset is HekiMsr.Cr0PinnedLow or HekiMsr.Cr0PinnedHigh ? 0 : 4;
        host.Configured(host.PinEvent(ConfigureSource.Msr, cr, cpu.CurrentInstructionRip));
        return MsrResult.Handled;
    }

    /// <summary>The ABI offset (HekiMsr.*) of <paramref name="msr"/> under the host's profile.</summary>
    public bool TryOffset(uint msr, out uint offset)
    {
        offset = 0;
        switch (host.Profile)
        {
            case HekiHostProfile.Heki when msr - host.MsrBase < HekiMsr.Count:
                offset = msr - host.MsrBase;
                return true;
            case HekiHostProfile.CrPin2020 when msr - HekiCompat.CrPin2020Cr0PinAllowed < HekiMsr.Count:
                // 0x4b564d08 ALLOWED0, 09 ALLOWED4, 0a CR0 LOW, 0b CR0 HIGH, 0c CR4 LOW, 0d CR4 HIGH:
                // the same order as the HekiGuest offsets.
                offset = msr - HekiCompat.CrPin2020Cr0PinAllowed;
                return true;
            default:
                return false;
        }
    }
}
