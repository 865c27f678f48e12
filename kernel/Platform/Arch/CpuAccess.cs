using System.Runtime.CompilerServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// Unprivileged-state helpers: RFLAGS.AC for deliberate user-page access, XGETBV, SLDT.
public static class CpuAccess
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_stac")] public static extern void Stac();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_clac")] public static extern void Clac();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_xgetbv")] public static extern ulong ReadXcr(uint xcr);
}
