using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// The policy a guest wants by default, "harden everything and report": detect the host
    /// interface; pin CR0.WP and CR4.SMEP/SMAP/UMIP, those of them that are set now and that the
    /// host allows; protect the text and the sealed section R+X immutable, rodata R immutable and
    /// every other page of RAM R+W (never X) immutable, in one all-or-nothing request; and write one
    /// report line per step saying whether the host enforces it. Run it once, after the guest's
    /// own page tables and control-register bits are in place.
    /// </summary>
    public sealed unsafe class GuestHardening
    {
        /// <summary>Most physical runs the three image sections may take together.</summary>
        public const int MaxImageRuns = 48;

        public readonly HekiHostInterface Host;
        public readonly CrPinner Pinner;
        public readonly MemoryProtector Protector;
        /// <summary>The bits asked to be pinned (set now and allowed); 0 when none or no pinning.</summary>
        public ulong Cr0Pinned, Cr4Pinned;
        /// <summary>0, or the error of that step (-95 when the host cannot do it).</summary>
        public long Cr0PinResult = HekiError.NotSupported, Cr4PinResult = HekiError.NotSupported, MemoryResult = HekiError.NotSupported;
        /// <summary>Ranges in the memory request, and how many of them the host applied.</summary>
        public int RangeCount, RangesApplied;

        private const ulong Text = HekiPermission.Read | HekiPermission.Execute | HekiPermission.Immutable;
        private const ulong ReadOnly = HekiPermission.Read | HekiPermission.Immutable;
        private const ulong ReadWrite = HekiPermission.Read | HekiPermission.Write | HekiPermission.Immutable;

        private GuestHardening(IHekiCpu cpu, HekiHostInterface host)
        {
            Host = host;
            Pinner = new CrPinner(cpu, host);
            Protector = new MemoryProtector(cpu, host);
        }

        /// <param name="requestedProfile">as for <see cref="HekiHostInterface.Detect"/> (the guest's
        /// heki.profile setting, or null).</param>
        public static GuestHardening Apply(IHekiCpu cpu, string requestedProfile, GuestImage image, IHardeningReport report)
        {
            var g = new GuestHardening(cpu, HekiHostInterface.Detect(cpu, requestedProfile));
            if (!g.Host.Present)
            {
                report.Text("heki: ");
                report.Text(g.Host.Reason);
                report.Text("; every protection is guest-enforced only");
                report.EndLine();
                return g;
            }
            report.Text("heki: host interface ");
            report.Text(ProfileName(g.Host.Profile));
            report.Text(" version ");
            report.Decimal(g.Host.VersionMajor);
            if (g.Host.VersionMinor != 0) { report.Text("."); report.Decimal(g.Host.VersionMinor); }
            report.Text(", features ");
            report.Hex(g.Host.Features);
            report.EndLine();

            if (g.Pinner.CanPin)
            {
                g.Cr0Pinned = cpu.ReadControlRegister(0) & HekiCrBits.Cr0Wp & g.Pinner.Allowed(0);
                g.Cr4Pinned = cpu.ReadControlRegister(4) & (HekiCrBits.Cr4Smep | HekiCrBits.Cr4Smap | HekiCrBits.Cr4Umip) & g.Pinner.Allowed(4);
                g.Cr0PinResult = g.Cr0Pinned != 0 ? g.Pinner.PinHigh(0, g.Cr0Pinned) : HekiError.Success;
                g.Cr4PinResult = g.Cr4Pinned != 0 ? g.Pinner.PinHigh(4, g.Cr4Pinned) : HekiError.Success;
            }
            if (g.Protector.Available) g.MemoryResult = g.ProtectMemory(cpu, image);
            Line(report, "CR0.WP pinned", g.Cr0Pinned != 0 && g.Cr0PinResult == 0, g.Cr0PinResult);
            Line(report, "CR4.SMEP/SMAP/UMIP pinned", g.Cr4Pinned != 0 && g.Cr4PinResult == 0, g.Cr4PinResult);
            Line(report, "kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable", g.MemoryResult == 0, g.MemoryResult);
            return g;
        }

        public static string ProfileName(HekiProfile p) => p switch
        {
            HekiProfile.Heki => "HekiGuest ABI",
            HekiProfile.CrPin2020 => "cr-pin-2020 (compat)",
            HekiProfile.HekiV3 => "heki-v3 (compat)",
            _ => "none",
        };

        private long ProtectMemory(IHekiCpu cpu, GuestImage image)
        {
            int capacity = 2 * MaxImageRuns + image.RamCount;
            HekiRange* r = stackalloc HekiRange[capacity];
            int n = 0;
            long e = GuestPhysicalRuns.Append(cpu, image.TextStart, Length(image.TextStart, image.TextEnd), Text, r, MaxImageRuns, ref n);
            if (e == 0) e = GuestPhysicalRuns.Append(cpu, image.SealedStart, Length(image.SealedStart, image.SealedEnd), Text, r, MaxImageRuns, ref n);
            if (e == 0) e = GuestPhysicalRuns.Append(cpu, image.RodataStart, Length(image.RodataStart, image.RodataEnd), ReadOnly, r, MaxImageRuns, ref n);
            if (e < 0) return e;
            int imageRuns = n;
            for (int i = 0; i < image.RamCount; i++)
            {
                ulong start = (image.Ram[i].Start + HekiLimits.Granule - 1) & ~(ulong)(HekiLimits.Granule - 1);
                ulong end = image.Ram[i].End & ~(ulong)(HekiLimits.Granule - 1);
                e = AddOutside(r, imageRuns, ref n, capacity, start, end);
                if (e < 0) return e;
            }
            RangeCount = n;
            return Protector.Protect(r, n, out RangesApplied);
        }

        private static ulong Length(ulong start, ulong end) => end > start ? end - start : 0;

        /// <summary>Adds [start, end) as R+W ranges, leaving out the pages of the first
        /// <paramref name="holes"/> entries (the image's runs).</summary>
        private static long AddOutside(HekiRange* r, int holes, ref int n, int capacity, ulong start, ulong end)
        {
            ulong cursor = start;
            while (cursor < end)
            {
                ulong next = end;
                bool inside = false;
                for (int h = 0; h < holes; h++)
                {
                    ulong hs = r[h].GuestPhysicalStart, he = hs + r[h].PageCount * HekiLimits.Granule;
                    if (cursor >= hs && cursor < he) { inside = true; next = he; break; }
                    if (hs > cursor && hs < next) next = hs;
                }
                if (!inside)
                {
                    if (n >= capacity) return HekiError.TooBig;
                    r[n].GuestPhysicalStart = cursor;
                    r[n].PageCount = (next - cursor) / HekiLimits.Granule;
                    r[n].Permissions = ReadWrite;
                    n++;
                }
                cursor = next;
            }
            return HekiError.Success;
        }

        private static void Line(IHardeningReport o, string what, bool hostEnforced, long error)
        {
            o.Text("heki: ");
            o.Text(what);
            o.Text(": ");
            if (hostEnforced) o.Text("host-enforced");
            else { o.Text("guest-only (host said "); o.Decimal(error); o.Text(")"); }
            o.EndLine();
        }
    }
}
