using System.Globalization;
using HekiGuest.HostSim.Heki;

namespace HekiGuest.HostSim.Cli;

/// <summary>--pin cr0=MASK,cr4=MASK: bits host userspace pins high before the guest runs.</summary>
public static class PinOption
{
    public static (ulong Cr0, ulong Cr4) Parse(IEnumerable<string> values)
    {
        ulong cr0 = 0, cr4 = 0;
        foreach (var item in values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            int eq = item.IndexOf('=');
            string name = eq < 0 ? item : item[..eq].ToLowerInvariant();
            if (eq < 0 || (name != "cr0" && name != "cr4"))
                throw new UsageError($"--pin {item}: expected cr0=MASK or cr4=MASK");
            string text = item[(eq + 1)..];
            bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            if (!ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out ulong mask) || mask == 0)
                throw new UsageError($"--pin {item}: '{text}' is not a non-zero number (e.g. 0x10000)");
            int cr = name == "cr0" ? 0 : 4;
            ulong allowed = CrPinState.Allowed(cr);
            if ((mask & ~allowed) != 0)
                throw new UsageError($"--pin {item}: bits 0x{mask & ~allowed:x} cannot be pinned (CR{cr} allows 0x{allowed:x})");
            if (cr == 0) cr0 |= mask; else cr4 |= mask;
        }
        return (cr0, cr4);
    }
}
