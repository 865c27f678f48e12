namespace HekiGuest.Platform.Arch;

// Every privileged write of the platform and the kernel goes through here: to the sealed routines
// (Native.Sealed*) while the image owns its sealed section (QEMU, the heki host, before the
// hand-over), and to the installed IPrivilegedWriter once the section was handed to a VTL1 monitor
// and VTL0 may no longer execute it. docs/architecture.md ("the sealed section") and docs/vtl.md
// section 15 describe both paths.
public static unsafe class SealedOps
{
    private static IPrivilegedWriter s_writer;

    /// <summary>True once the writes go to a monitor instead of the sealed routines.</summary>
    public static bool Routed => s_writer != null;

    /// <summary>From now on every write goes to <paramref name="writer"/> (once; not undone).</summary>
    public static void Route(IPrivilegedWriter writer)
    {
        if (s_writer == null) s_writer = writer;
    }

    public static void WriteCr0(ulong value)
    {
        if (s_writer != null) s_writer.WriteCr0(value); else Native.SealedWriteCr0(value);
    }

    public static void WriteCr3(ulong value)
    {
        if (s_writer != null) s_writer.WriteCr3(value); else Native.SealedWriteCr3(value);
    }

    public static void WriteCr4(ulong value)
    {
        if (s_writer != null) s_writer.WriteCr4(value); else Native.SealedWriteCr4(value);
    }

    public static void WriteMsr(uint msr, ulong value)
    {
        if (s_writer != null) s_writer.WriteMsr(msr, value); else Native.SealedWriteMsr(msr, value);
    }

    public static void SetXcr(uint xcr, ulong value)
    {
        if (s_writer != null) s_writer.SetXcr(xcr, value); else Native.SealedXsetbv(xcr, value);
    }

    public static void LoadGdt(DescriptorTablePointer* table)
    {
        if (s_writer != null) s_writer.LoadGdt(table); else Native.SealedLoadGdt(table);
    }

    public static void LoadIdt(DescriptorTablePointer* table)
    {
        if (s_writer != null) s_writer.LoadIdt(table); else Native.SealedLoadIdt(table);
    }

    public static void LoadTr(ushort selector)
    {
        if (s_writer != null) s_writer.LoadTr(selector); else Native.SealedLoadTr(selector);
    }

    public static void LoadLdt(ushort selector)
    {
        if (s_writer != null) s_writer.LoadLdt(selector); else Native.SealedLoadLdt(selector);
    }
}
