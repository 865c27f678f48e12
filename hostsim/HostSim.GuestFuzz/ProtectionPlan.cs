using HekiGuest.Abi;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// What the fuzz guest's boot stub asks PROTECT_MEMORY for, as the HekiGuest kernel does: kernel
/// text R+X and rodata R, every other page R+W never X, except the random-code areas (kernel R+X,
/// user R+W+X); every range IMMUTABLE, so the host permission map may never change afterwards.
/// </summary>
public static class ProtectionPlan
{
    private const ulong R = HekiPermission.Read, W = HekiPermission.Write, X = HekiPermission.Execute, I = HekiPermission.Immutable;

    public static readonly (ulong Gpa, ulong Pages, ulong Permissions)[] Ranges =
    [
        (0, GuestLayout.Rodata / 4096, R | W | I),
        (GuestLayout.Rodata, GuestLayout.RodataPages, R | I),
        (GuestLayout.Rodata + GuestLayout.RodataPages * 4096, (GuestLayout.Text - GuestLayout.Rodata) / 4096 - GuestLayout.RodataPages, R | W | I),
        (GuestLayout.Text, GuestLayout.TextPages, R | X | I),
        (GuestLayout.Text + GuestLayout.TextPages * 4096, (GuestLayout.KernelCode - GuestLayout.Text) / 4096 - GuestLayout.TextPages, R | W | I),
        (GuestLayout.KernelCode, GuestLayout.CodePages, R | X | I),
        (GuestLayout.KernelCode + GuestLayout.CodeSize, (GuestLayout.UserCode - GuestLayout.KernelCode - GuestLayout.CodeSize) / 4096, R | W | I),
        (GuestLayout.UserCode, GuestLayout.CodePages, R | W | X | I),
        (GuestLayout.UserCode + GuestLayout.CodeSize, (GuestLayout.MemorySize - GuestLayout.UserCode - GuestLayout.CodeSize) / 4096, R | W | I),
    ];

    /// <summary>The permissions the plan gives the page holding <paramref name="physical"/>.</summary>
    public static ulong PermissionsOf(ulong physical)
    {
        foreach (var (gpa, pages, permissions) in Ranges)
        {
            if (physical >= gpa && physical < gpa + pages * 4096) return permissions;
        }
        throw new ArgumentOutOfRangeException(nameof(physical), physical, "outside the protected RAM");
    }
}
