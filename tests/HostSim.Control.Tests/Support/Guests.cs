using HekiGuest.HostSim.Machine.Tests.Loading;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Control.Tests.Support;

/// <summary>
/// Unmodified multiboot1 guests (no hypervisor awareness at all): one ELF32 segment at 1 MiB,
/// 32-bit code entered in flat protected mode.
/// </summary>
internal static class Guests
{
    public const uint Entry = ElfImageBuilder.Multiboot1Entry;
    public const uint Smep = 1u << 20, Osfxsr = 1u << 9;

    public static byte[] Kernel(Action<Assembler> code) => ElfImageBuilder.Multiboot1Kernel(code);

    /// <summary>Spins forever (counting in EAX).</summary>
    public static byte[] Spins() => Kernel(a =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        a.inc(eax);
        a.jmp(top);
    });

    /// <summary>Prints "hi" and exits with debug-exit value 0 (exit code 1).</summary>
    public static byte[] SaysHi() => Kernel(a =>
    {
        a.mov(dx, 0x3F8);
        a.mov(al, (byte)'h'); a.@out(dx, al);
        a.mov(al, (byte)'i'); a.@out(dx, al);
        a.xor(eax, eax);
        a.@out(0xF4, al);
        a.hlt();
    });

    /// <summary>Counts its boots in CMOS NVRAM byte 0x7F and asks for a reset through port 0xCF9
    /// (0x02, then 0x06) until boot <paramref name="boots"/>, which exits with the count (exit
    /// code (count &lt;&lt; 1) | 1); 0xEE when a request did not reset.</summary>
    public static byte[] ResetsUntilBoot(int boots) => Kernel(a =>
    {
        var done = a.CreateLabel();
        a.mov(al, 0x7F); a.@out(0x70, al); a.@in(al, 0x71);
        a.inc(al); a.mov(bl, al);
        a.mov(al, 0x7F); a.@out(0x70, al); a.mov(al, bl); a.@out(0x71, al);
        a.cmp(bl, (byte)boots); a.jae(done);
        a.mov(dx, 0xCF9);
        a.mov(al, 0x02); a.@out(dx, al);
        a.mov(al, 0x06); a.@out(dx, al);
        a.mov(al, 0xEE); a.@out(0xF4, al); a.hlt();
        a.Label(ref done);
        a.mov(al, bl); a.@out(0xF4, al); a.hlt();
    });

    /// <summary>Divides by zero with no IDT: a triple fault.</summary>
    public static byte[] TripleFaults() => Kernel(a =>
    {
        a.xor(ecx, ecx);
        a.div(ecx);
        a.hlt();
    });

    /// <summary>
    /// An OS that knows nothing of hypervisors: loads its own GDT and an IDT whose #GP handler
    /// counts the fault and skips the instruction that raised it (EDI bytes), then sets CR4.SMEP,
    /// tries to clear it, sets CR4.OSFXSR (keeping SMEP), sets EFER.SCE with WRMSR, and exits
    /// through debug-exit with value = SMEP | OSFXSR &lt;&lt; 1 | EFER.SCE &lt;&lt; 2 | (#GP count) &lt;&lt; 3
    /// read at the end (exit code (value &lt;&lt; 1) | 1). It spins <paramref name="spinFirst"/> iterations first.
    /// </summary>
    public static byte[] TogglesSmep(uint spinFirst = 0) => Kernel(a =>
    {
        var spin = a.CreateLabel();
        // #GP handler first, at a known address (Entry + 2, jumped over): drop the error code,
        // step over the faulting instruction (EDI bytes), count (8 bytes of code)
        a.db(0xEB, 0x08);
        a.add(esp, 4);
        a.add(__dword_ptr[esp], edi);
        a.inc(esi);
        a.iretd();
        // GDT at 0x3000: null, flat code 0x08, flat data 0x10; GDTR at 0x3100; IDTR at 0x3200
        a.mov(__dword_ptr[0x3000], 0); a.mov(__dword_ptr[0x3004], 0);
        a.mov(__dword_ptr[0x3008], 0x0000FFFF); a.mov(__dword_ptr[0x300C], 0x00CF9A00);
        a.mov(__dword_ptr[0x3010], 0x0000FFFF); a.mov(__dword_ptr[0x3014], 0x00CF9200);
        a.mov(__word_ptr[0x3100], 0x17); a.mov(__dword_ptr[0x3102], 0x3000);
        a.lgdt(__[0x3100]);
        // IDT at 0x2000, gate 13 (#GP) -> handler, 32-bit interrupt gate
        a.mov(eax, Entry + 2);
        a.mov(__word_ptr[0x2000 + 13 * 8], ax);
        a.mov(__word_ptr[0x2000 + 13 * 8 + 2], 0x08);
        a.mov(__word_ptr[0x2000 + 13 * 8 + 4], 0x8E00);
        a.shr(eax, 16);
        a.mov(__word_ptr[0x2000 + 13 * 8 + 6], ax);
        a.mov(__word_ptr[0x3200], 0xFF); a.mov(__dword_ptr[0x3202], 0x2000);
        a.lidt(__[0x3200]);
        a.mov(esp, 0x90000);
        a.xor(esi, esi);
        a.mov(ecx, spinFirst);
        a.Label(ref spin);
        a.test(ecx, ecx);
        var spun = a.CreateLabel();
        a.jz(spun);
        a.dec(ecx);
        a.jmp(spin);
        a.Label(ref spun);
        // set SMEP, try to clear it, set OSFXSR (MOV CR4 is 3 bytes)
        a.mov(edi, 3);
        a.mov(eax, cr4); a.or(eax, (int)Smep); a.mov(cr4, eax);
        a.and(eax, ~(int)Smep); a.mov(cr4, eax);
        a.mov(eax, cr4); a.or(eax, (int)Osfxsr); a.mov(cr4, eax);
        // EFER.SCE (WRMSR is 2 bytes)
        a.mov(edi, 2);
        a.mov(ecx, 0xC0000080); a.rdmsr(); a.or(eax, 1); a.wrmsr();
        // the exit value from what CR4 and EFER hold now
        a.mov(ecx, 0xC0000080); a.rdmsr(); a.and(eax, 1); a.shl(eax, 2); a.mov(edx, eax);
        a.mov(eax, cr4); a.shr(eax, 20); a.and(eax, 1); a.or(eax, edx);
        a.mov(ebx, cr4); a.shr(ebx, 9); a.and(ebx, 1); a.shl(ebx, 1); a.or(eax, ebx);
        a.shl(esi, 3); a.or(eax, esi);
        a.@out(0xF4, al);
        a.hlt();
    });

    /// <summary>The exit code <see cref="TogglesSmep"/> ends with.</summary>
    public static int SmepExitCode(bool smep, bool osfxsr, bool sce, int gpCount) =>
        (((smep ? 1 : 0) | (osfxsr ? 2 : 0) | (sce ? 4 : 0) | gpCount << 3) << 1) | 1;
}
