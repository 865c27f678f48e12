namespace HekiGuest.Platform.Arch;

/// <summary>Who performs the privileged writes once the image no longer runs its own sealed
/// routines: the kernel installs one that asks its VTL1 monitor (docs/vtl.md section 15) after it
/// handed the sealed section over. A write the writer's policy refuses raises #GP(0), as the
/// instruction would on a host that refuses it.</summary>
public unsafe interface IPrivilegedWriter
{
    void WriteCr0(ulong value);
    void WriteCr3(ulong value);
    void WriteCr4(ulong value);
    void WriteMsr(uint msr, ulong value);
    void SetXcr(uint xcr, ulong value);
    void LoadGdt(DescriptorTablePointer* table);
    void LoadIdt(DescriptorTablePointer* table);
    void LoadTr(ushort selector);
    void LoadLdt(ushort selector);
}
