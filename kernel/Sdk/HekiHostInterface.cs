using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// What the host offers. The HekiGuest ABI is found by scanning the hypervisor CPUID ranges;
    /// the historical profiles are used only when the guest's configuration names them (their
    /// numbers collide with upstream KVM), never by autodetection.
    ///
    /// Forward compatibility (docs/abi.md section 1): the host's version is (base+1).EAX, major in
    /// bits 15:0 and minor in bits 31:16. This SDK accepts a host whose major is
    /// <see cref="HekiCpuid.AbiMajor"/> with any minor (a later minor only adds feature bits,
    /// leaves and hypercalls; an earlier one only lacks some, whose bits are then clear), and
    /// uses only the features it knows whose bits are set (<see cref="Has"/>); unknown feature bits are ignored. A host with
    /// any other major is refused and <see cref="Reason"/> names both majors.
    /// </summary>
    public sealed unsafe class HekiHostInterface
    {
        public HekiProfile Profile;
        public uint CpuidBase;
        /// <summary>The version as the host reports it (major | minor &lt;&lt; 16 for the HekiGuest ABI).</summary>
        public uint Version;
        public uint Features;
        public uint MsrBase;
        public uint HypercallBase;
        public uint MaxRangesPerCall;
        public uint MaxRanges;
        /// <summary>Why no interface is in use (when Profile is None); empty otherwise.</summary>
        public string Reason = "";

        public bool Present => Profile != HekiProfile.None;
        public bool Has(uint feature) => (Features & feature) == feature;
        public uint VersionMajor => Profile == HekiProfile.Heki ? Version & HekiCpuid.VersionMajorMask : Version;
        public uint VersionMinor => Profile == HekiProfile.Heki ? Version >> HekiCpuid.VersionMinorShift : 0;

        /// <param name="requestedProfile">null or "heki" for autodetection of the HekiGuest ABI;
        /// "cr-pin-2020" or "heki-v3" to use that historical numbering; "off" for none. Names are
        /// lower case; any other name (including a known one in another case) is refused with a
        /// reason that quotes it.</param>
        public static HekiHostInterface Detect(IHekiCpu cpu, string requestedProfile)
        {
            var h = new HekiHostInterface();
            if (requestedProfile == HekiProfileNames.Off) { h.Reason = "disabled on the command line (heki.profile=off)"; return h; }
            if (requestedProfile != null && requestedProfile != HekiProfileNames.Default
                && requestedProfile != HekiProfileNames.CrPin2020 && requestedProfile != HekiProfileNames.HekiV3)
            {
                h.Reason = UnknownProfileReason(requestedProfile);
                return h;
            }
            uint* r = stackalloc uint[4];
            cpu.Cpuid(1, 0, r);
            bool hypervisor = (r[2] & (1u << 31)) != 0;
            if (!hypervisor) { h.Reason = "no hypervisor (CPUID.1:ECX.HV clear)"; return h; }
            if (requestedProfile == HekiProfileNames.CrPin2020) return DetectCrPin2020(cpu, h, r);
            if (requestedProfile == HekiProfileNames.HekiV3) return DetectHekiV3(cpu, h, r);
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
                uint major = h.Version & HekiCpuid.VersionMajorMask;
                if (major != HekiCpuid.AbiMajor)
                {
                    h.Reason = string.Concat(string.Concat("unsupported HekiGuest ABI major version ", Decimal(major)),
                        string.Concat(" (this SDK knows major ", Decimal(HekiCpuid.AbiMajor), ")"));
                    return h;
                }
                h.Profile = HekiProfile.Heki;
                return h;
            }
            h.Reason = "no HekiGuest host interface (no HEKIGUESTABI CPUID range)";
            return h;
        }

        private static string UnknownProfileReason(string name)
        {
            string quoted = string.Concat("unknown profile name '", name, "'");
            string known = "heki, cr-pin-2020, heki-v3, off)";
            bool caseOnly = SameIgnoringAsciiCase(name, HekiProfileNames.Default) || SameIgnoringAsciiCase(name, HekiProfileNames.CrPin2020)
                || SameIgnoringAsciiCase(name, HekiProfileNames.HekiV3) || SameIgnoringAsciiCase(name, HekiProfileNames.Off);
            return string.Concat(quoted, caseOnly ? " (names are lower case: " : " in heki.profile (known names: ", known);
        }

        private static bool SameIgnoringAsciiCase(string a, string b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
            {
                char x = a[i], y = b[i];
                if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
                if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
                if (x != y) return false;
            }
            return true;
        }

        /// <summary>Decimal text without a formatting library (the kernel's corelib has none).</summary>
        private static string Decimal(uint value)
        {
            string s = Digit(value % 10);
            while ((value /= 10) != 0) s = string.Concat(Digit(value % 10), s);
            return s;
        }

        private static string Digit(uint d) => d switch
        {
            0 => "0", 1 => "1", 2 => "2", 3 => "3", 4 => "4", 5 => "5", 6 => "6", 7 => "7", 8 => "8", _ => "9",
        };

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
