using System.Runtime.CompilerServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// The identity map boot.s builds. Page 0 stays mapped until the boot information (which a PVH
// loader may put there) has been copied; then it is unmapped so null dereferences fault.
public static unsafe class BootPageTables
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_boot_pt0")] private static extern ulong* FirstPageTable();

    public static bool NullPageMapped => (FirstPageTable()[0] & 1) != 0;

    public static void UnmapNullPage()
    {
        FirstPageTable()[0] = 0;
        Native.InvalidatePage(0);
    }
}
