namespace HekiGuest.Kernel.Memory;

// x86-64 page-table entry bits.
public static class PageFlags
{
    public const ulong Present = 1UL << 0;
    public const ulong Writable = 1UL << 1;
    public const ulong User = 1UL << 2;
    public const ulong Accessed = 1UL << 5;
    public const ulong Dirty = 1UL << 6;
    public const ulong Large = 1UL << 7;
    public const ulong Global = 1UL << 8;
    public const ulong NoExecute = 1UL << 63;
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    public const ulong KernelText = Present;                              // R+X
    public const ulong KernelReadOnly = Present | NoExecute;              // R
    public const ulong KernelData = Present | Writable | NoExecute;       // RW
}
