using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// What the host offers. The HekiGuest ABI is found by scanning the hypervisor CPUID ranges;
    /// the historical profiles are used only when the guest's configuration names them (their
    /// numbers collide with upstream KVM), never by autodetection.
    /// </summary>
    public sealed unsafe class HekiHostInterface
    {
        public HekiProfile Profile;
        public uint CpuidBase;
        public uint Version;
        public uint Features;
        public uint MsrBase;
        public uint HypercallBase;
        public uint MaxRangesPerCall;
        public uint MaxRanges;
        /// <summary>Why no interface is in use (when Profile is None).</summary>
        public string Reason;

        public bool Present => Profile != HekiProfile.None;
        public bool Has(uint feature) => (Features & feature) == feature;

        /// <param name="requestedProfile">null or "heki" for autodetection of the HekiGuest ABI;
        /// "cr-pin-2020" or "heki-v3" to use that historical numbering; "off" for none.</param>
        public static HekiHostInterface Detect(IHekiCpu cpu, string requestedProfile)
        {
            var h = new HekiHostInterface();
            uint* r = stackalloc uint[4];
            cpu.Cpuid(1, 0, r);
            bool hypervisor = (r[2] & (1u << 31)) != 0;
            if (requestedProfile == "off") { h.Reason = "disabled on the command line (heki.profile=off)"; return h; }
            if (!hypervisor) { h.Reason = "no hypervisor (CPUID.1:ECX.HV clear)"; return h; }
            if (requestedProfile == HekiProfileNames.CrPin2020) return DetectCrPin2020(cpu, h, r);
            if (requestedProfile == HekiProfileNames.HekiV3) return DetectHekiV3(cpu, h, r);
            if (requestedProfile != null && requestedProfile != HekiProfileNames.Default)
            {
                h.Reason = "unknown heki.profile on the command line";
                return h;
            }
            for (uint b = HekiCpuid.ScanFirst; b <= HekiCpuid.ScanLast; b += HekiCpuid.ScanStep)
            {
                cpu.Cpuid(b, 0, r);
                if (r[1] != HekiCpuid.SignatureEbx || r[2] != HekiCpuid.SignatureEcx || r[3] != HekiCpuid.SignatureEdx) continue;
                if (r[0] < b + HekiCpuid.HighestLeafOffset) { h.Reason = "HekiGuest CPUID range too short"; return h; }
                h.CpuidBase = b;
                cpu.Cpuid(b + HekiCpuid.LeafFeatures, 0, r);
                h.Version = r[0];
                h.Features = r[1];
                h.MsrBase = r[2];
                h.HypercallBase = r[3];
                cpu.Cpuid(b + HekiCpuid.LeafLimits, 0, r);
                h.MaxRangesPerCall = r[0];
                h.MaxRanges = r[1];
                if (h.Version != HekiCpuid.AbiVersion) { h.Reason = "unsupported HekiGuest ABI version"; return h; }
                h.Profile = HekiProfile.Heki;
                return h;
            }
            h.Reason = "no HekiGuest host interface (no HEKIGUESTABI CPUID range)";
            return h;
        }

        private static bool IsKvm(IHekiCpu cpu, uint* r)
        {
            cpu.Cpuid(HekiCompat.KvmCpuidBase, 0, r);
            return r[1] == HekiCompat.KvmSignatureEbx && r[2] == HekiCompat.KvmSignatureEcx && r[3] == HekiCompat.KvmSignatureEdx
                && r[0] >= HekiCompat.KvmCpuidFeatures;
        }

        private static HekiHostInterface DetectCrPin2020(IHekiCpu cpu, HekiHostInterface h, uint* r)
        {
            if (!IsKvm(cpu, r)) { h.Reason = "cr-pin-2020 selected but the host is not KVM-compatible"; return h; }
            cpu.Cpuid(HekiCompat.KvmCpuidFeatures, 0, r);
            if ((r[0] & (1u << HekiCompat.CrPin2020FeatureBit)) == 0) { h.Reason = "cr-pin-2020 selected but feature bit 15 is clear"; return h; }
            h.Profile = HekiProfile.CrPin2020;
            h.Features = HekiCpuid.FeatureCrPinMsrs;
            h.Version = 0;
            return h;
        }

        private static HekiHostInterface DetectHekiV3(IHekiCpu cpu, HekiHostInterface h, uint* r)
        {
            if (!IsKvm(cpu, r)) { h.Reason = "heki-v3 selected but the host is not KVM-compatible"; return h; }
            if (!cpu.TryHypercall(HekiCompat.HekiV3LockCrUpdate, 0, 0, HekiCompat.HekiV3FlagVersion, 0, out long v) || v != HekiCompat.HekiV3Version)
            {
                h.Reason = "heki-v3 selected but LOCK_CR_UPDATE's version query failed";
                return h;
            }
            h.Profile = HekiProfile.HekiV3;
            h.Features = HekiCpuid.FeatureLockCrHypercall;
            h.Version = (uint)v;
            return h;
        }
    }
}
