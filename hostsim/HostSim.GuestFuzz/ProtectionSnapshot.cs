using HekiGuest.Abi;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// What must hold after any guest code has run, taken right after the boot stub armed the
/// protections: the bytes of every page the host map makes non-writable (kernel text, rodata with
/// the GDT/IDT/TSS, the kernel random-code area), the permission of every page in the host map,
/// and the CR pins. <see cref="Violations"/> compares the machine against it: changed protected
/// bytes, pinned bits clear in CR0/CR4, pins changed in the host's <c>CrPinState</c>, a page whose
/// host permissions changed (all are IMMUTABLE), and pages that became writable and executable.
/// </summary>
public sealed class ProtectionSnapshot
{
    private const ulong PageSize = 4096;
    private readonly ulong[] _readOnlyPages;
    private readonly byte[] _bytes;
    private readonly ulong?[] _permissions;
    private readonly ulong _cr0High, _cr0Low, _cr4High, _cr4Low;

    private ProtectionSnapshot(FuzzGuest guest)
    {
        var map = guest.Host.Permissions;
        int pages = (int)(GuestLayout.MemorySize / PageSize);
        _permissions = new ulong?[pages];
        var readOnly = new List<ulong>();
        for (int p = 0; p < pages; p++)
        {
            _permissions[p] = map.PermissionsOf((ulong)p * PageSize);
            if (_permissions[p] is { } perm && (perm & HekiPermission.Write) == 0) readOnly.Add((ulong)p * PageSize);
        }
        _readOnlyPages = readOnly.ToArray();
        _bytes = new byte[_readOnlyPages.Length * (int)PageSize];
        for (int i = 0; i < _readOnlyPages.Length; i++)
            guest.Vm.Memory.Slice(_readOnlyPages[i], (int)PageSize).CopyTo(_bytes.AsSpan(i * (int)PageSize));
        var pins = guest.Host.Pins;
        (_cr0High, _cr0Low, _cr4High, _cr4Low) = (pins.Cr0PinnedHigh, pins.Cr0PinnedLow, pins.Cr4PinnedHigh, pins.Cr4PinnedLow);
    }

    public int ProtectedPages => _readOnlyPages.Length;

    public static ProtectionSnapshot Take(FuzzGuest guest) => new(guest);

    /// <summary>Null when the boot stub armed exactly the plan: every pin, CR bits set, every page as planned.</summary>
    public static string? CheckArmed(FuzzGuest guest)
    {
        var pins = guest.Host.Pins;
        if (pins.Cr0PinnedHigh != HekiCrBits.Cr0Allowed || pins.Cr4PinnedHigh != HekiCrBits.Cr4Allowed)
            return $"pins not armed: CR0 high 0x{pins.Cr0PinnedHigh:x}, CR4 high 0x{pins.Cr4PinnedHigh:x}";
        var cpu = guest.Cpu;
        if ((cpu.Cr0 & HekiCrBits.Cr0Allowed) != HekiCrBits.Cr0Allowed || (cpu.Cr4 & HekiCrBits.Cr4Allowed) != HekiCrBits.Cr4Allowed)
            return $"CR bits not set: CR0 0x{cpu.Cr0:x}, CR4 0x{cpu.Cr4:x}";
        for (ulong page = 0; page < GuestLayout.MemorySize; page += PageSize)
        {
            ulong? actual = guest.Host.Permissions.PermissionsOf(page);
            if (actual != ProtectionPlan.PermissionsOf(page))
                return $"page 0x{page:x} has permissions {Describe(actual)}, planned {Describe(ProtectionPlan.PermissionsOf(page))}";
        }
        return null;
    }

    /// <summary>Every way the protections were broken since the snapshot (empty when intact).</summary>
    public List<string> Violations(FuzzGuest guest)
    {
        var found = new List<string>();
        var memory = guest.Vm.Memory;
        for (int i = 0; i < _readOnlyPages.Length; i++)
        {
            var now = memory.Slice(_readOnlyPages[i], (int)PageSize);
            var then = _bytes.AsSpan(i * (int)PageSize, (int)PageSize);
            int diff = now.CommonPrefixLength(then);
            if (diff < (int)PageSize)
            {
                ulong at = _readOnlyPages[i] + (ulong)diff;
                string what = OnlyAccessedDirtyBits(then, now) ? AccessedDirtyWrite : "protected byte changed";
                found.Add($"{what} at gpa 0x{at:x} ({RegionName(at)}, {Describe(_permissions[(int)(_readOnlyPages[i] / PageSize)])}): 0x{then[diff]:x2} -> 0x{now[diff]:x2}");
            }
        }
        var cpu = guest.Cpu;
        if ((cpu.Cr0 & _cr0High) != _cr0High) found.Add($"pinned CR0 bits clear: CR0 0x{cpu.Cr0:x}, pinned 0x{_cr0High:x}");
        if ((cpu.Cr4 & _cr4High) != _cr4High) found.Add($"pinned CR4 bits clear: CR4 0x{cpu.Cr4:x}, pinned 0x{_cr4High:x}");
        var pins = guest.Host.Pins;
        if ((pins.Cr0PinnedHigh, pins.Cr0PinnedLow, pins.Cr4PinnedHigh, pins.Cr4PinnedLow) != (_cr0High, _cr0Low, _cr4High, _cr4Low))
            found.Add($"CR pins changed: CR0 high/low 0x{pins.Cr0PinnedHigh:x}/0x{pins.Cr0PinnedLow:x}, CR4 0x{pins.Cr4PinnedHigh:x}/0x{pins.Cr4PinnedLow:x}");
        var map = guest.Host.Permissions;
        int changed = 0;
        for (int p = 0; p < _permissions.Length; p++)
        {
            ulong? now = map.PermissionsOf((ulong)p * PageSize);
            if (now == _permissions[p]) continue;
            if (changed++ < 4)
            {
                bool newWx = IsWx(now) && !IsWx(_permissions[p]);
                found.Add($"host permissions of gpa 0x{(ulong)p * PageSize:x} changed: {Describe(_permissions[p])} -> {Describe(now)}{(newWx ? " (now writable and executable)" : "")}");
            }
        }
        if (changed > 4) found.Add($"... {changed} pages changed host permissions in all");
        return found;
    }

    /// <summary>How a change that only set Accessed/Dirty bits of present entries is reported (a page
    /// walk through a protected page used as a paging structure wrote it).</summary>
    public const string AccessedDirtyWrite = "accessed/dirty bits set in a protected page (a page walk through it)";

    /// <summary>True when every changed qword of the page is a present entry whose only change is
    /// bit 5 (accessed) and/or bit 6 (dirty) going from 0 to 1.</summary>
    private static bool OnlyAccessedDirtyBits(ReadOnlySpan<byte> then, ReadOnlySpan<byte> now)
    {
        for (int q = 0; q < then.Length; q += 8)
        {
            ulong a = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(then[q..]);
            ulong b = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(now[q..]);
            if (a == b) continue;
            if ((a & 1) == 0 || (a & ~b) != 0 || ((a ^ b) & ~0x60UL) != 0) return false;
        }
        return true;
    }

    private static bool IsWx(ulong? p) => p is not { } v || (v & (HekiPermission.Write | HekiPermission.Execute)) == (HekiPermission.Write | HekiPermission.Execute);

    public static string Describe(ulong? permissions)
    {
        if (permissions is not { } p) return "unnamed (all rights)";
        var s = ((p & HekiPermission.Read) != 0 ? "R" : "") + ((p & HekiPermission.Write) != 0 ? "W" : "") + ((p & HekiPermission.Execute) != 0 ? "X" : "");
        return (s.Length == 0 ? "none" : s) + ((p & HekiPermission.Immutable) != 0 ? " immutable" : "");
    }

    public static string RegionName(ulong gpa) => gpa switch
    {
        < GuestLayout.PageTablesEnd => "page tables",
        < GuestLayout.Gdt => "rodata",
        < GuestLayout.Idt => "GDT",
        < GuestLayout.Tss => "IDT",
        < GuestLayout.Tss + 4096 => "TSS",
        < GuestLayout.Text => "kernel data",
        < GuestLayout.Text + GuestLayout.TextPages * 4096 => "kernel text",
        < GuestLayout.KernelCode => "kernel data",
        < GuestLayout.KernelCode + (ulong)GuestLayout.CodeSize => "kernel random code",
        < GuestLayout.UserCode => "kernel data",
        < GuestLayout.UserCode + (ulong)GuestLayout.CodeSize => "user random code",
        < GuestLayout.Heap => "user data",
        _ => "heap",
    };
}
