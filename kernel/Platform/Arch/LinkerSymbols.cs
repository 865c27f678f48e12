using System.Runtime.CompilerServices;
using System.Runtime;

namespace HekiGuest.Platform.Arch;

// Addresses the linker script defines (linker.ld), read through tiny asm accessors.
public static unsafe class LinkerSymbols
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_image_start")] public static extern ulong ImageStart();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_image_end")] public static extern ulong ImageEnd();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_text_start")] public static extern ulong TextStart();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_text_end")] public static extern ulong TextEnd();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_sealed_start")] public static extern ulong SealedStart();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_sealed_end")] public static extern ulong SealedEnd();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_rodata_start")] public static extern ulong RodataStart();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_rodata_end")] public static extern ulong RodataEnd();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_data_start")] public static extern ulong DataStart();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_data_end")] public static extern ulong DataEnd();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_isr_table")] public static extern ulong* IsrTable();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_stack_bottom")] public static extern ulong BootStackBottom();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_stack_top")] public static extern ulong BootStackTop();
}
