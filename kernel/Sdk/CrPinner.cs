using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>Pins control-register bits high through whatever the host interface offers.</summary>
    public sealed class CrPinner
    {
        private readonly IHekiCpu _cpu;
        private readonly HekiHostInterface _host;

        public CrPinner(IHekiCpu cpu, HekiHostInterface host) { _cpu = cpu; _host = host; }

        public bool CanPin => _host.Has(HekiCpuid.FeatureCrPinMsrs) || _host.Has(HekiCpuid.FeatureLockCrHypercall);

        public uint MsrAddress(uint offset) => _host.Profile == HekiProfile.CrPin2020
            ? offset switch
            {
                HekiMsr.Cr0PinAllowed => HekiCompat.CrPin2020Cr0PinAllowed,
                HekiMsr.Cr4PinAllowed => HekiCompat.CrPin2020Cr4PinAllowed,
                HekiMsr.Cr0PinnedLow => HekiCompat.CrPin2020Cr0PinnedLow,
                HekiMsr.Cr0PinnedHigh => HekiCompat.CrPin2020Cr0PinnedHigh,
                HekiMsr.Cr4PinnedLow => HekiCompat.CrPin2020Cr4PinnedLow,
                _ => HekiCompat.CrPin2020Cr4PinnedHigh,
            }
            : _host.MsrBase + offset;

        /// <summary>The bits the host lets this guest pin in CR0 (cr = 0) or CR4 (cr = 4).</summary>
        public ulong Allowed(int cr)
        {
            if (_host.Has(HekiCpuid.FeatureCrPinMsrs)
                && _cpu.TryReadMsr(MsrAddress(cr == 0 ? HekiMsr.Cr0PinAllowed : HekiMsr.Cr4PinAllowed), out ulong v))
                return v;
            return cr == 0 ? HekiCrBits.Cr0Allowed : HekiCrBits.Cr4Allowed;
        }

        /// <summary>The bits currently pinned high, when the host can tell (MSR interface).</summary>
        public bool TryPinnedHigh(int cr, out ulong bits)
        {
            bits = 0;
            return _host.Has(HekiCpuid.FeatureCrPinMsrs)
                && _cpu.TryReadMsr(MsrAddress(cr == 0 ? HekiMsr.Cr0PinnedHigh : HekiMsr.Cr4PinnedHigh), out bits);
        }

        /// <summary>Pins <paramref name="bits"/> of CR0 (cr = 0) or CR4 (cr = 4) high. Returns 0 on
        /// success, else: <see cref="HekiError.InvalidArgument"/> for another register or no bits;
        /// <see cref="HekiSdkError.PinBitClear"/> (no host call) when one of the bits is clear in
        /// the register now, since a pinned-high bit that is clear makes every later write of the
        /// register fault; the host's negative error; or -95 when nothing can pin.</summary>
        public long PinHigh(int cr, ulong bits)
        {
            if ((cr != 0 && cr != 4) || bits == 0) return HekiError.InvalidArgument;
            if ((_cpu.ReadControlRegister(cr) & bits) != bits) return HekiSdkError.PinBitClear;
            if (_host.Has(HekiCpuid.FeatureCrPinMsrs))
            {
                uint msr = MsrAddress(cr == 0 ? HekiMsr.Cr0PinnedHigh : HekiMsr.Cr4PinnedHigh);
                if (!_cpu.TryReadMsr(msr, out ulong current)) return HekiError.BadAddress;
                if (!_cpu.TryWriteMsr(msr, current | bits)) return HekiError.InvalidArgument;
                return _cpu.TryReadMsr(msr, out ulong after) && (after & bits) == bits ? HekiError.Success : HekiError.InvalidArgument;
            }
            if (_host.Has(HekiCpuid.FeatureLockCrHypercall))
            {
                ulong nr = _host.Profile == HekiProfile.HekiV3 ? HekiCompat.HekiV3LockCrUpdate : _host.HypercallBase + HekiHypercall.LockCr;
                if (!_cpu.TryHypercall(nr, (ulong)cr, bits, 0, 0, out long result)) return HekiError.NoSuchHypercall;
                return result;
            }
            return HekiError.NotSupported;
        }
    }
}
