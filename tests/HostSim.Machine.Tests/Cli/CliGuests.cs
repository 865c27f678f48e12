using HekiGuest.HostSim.Machine.Tests.Loading;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>
/// Tiny multiboot1 ELF32 kernels for the CLI: one segment at 1 MiB holding the multiboot1 header
/// and then 32-bit code, entered at <see cref="Entry"/> in flat protected mode.
/// </summary>
internal static class CliGuests
{
    public const uint Entry = ElfImageBuilder.Multiboot1Entry;

    public static byte[] Kernel(Action<Assembler> code) => ElfImageBuilder.Multiboot1Kernel(code);

    /// <summary>Prints "hi" on COM1, then writes 0 to debug-exit: exit code 1.</summary>
    public static byte[] SaysHi() => Kernel(a =>
    {
        a.mov(dx, 0x3F8);
        a.mov(al, (byte)'h'); a.@out(dx, al);
        a.mov(al, (byte)'i'); a.@out(dx, al);
        a.xor(eax, eax);
        a.@out(0xF4, al);
        a.hlt();
    });

    /// <summary>Divides by zero with no IDT: #DE, #GP, #DF, triple fault.</summary>
    public static byte[] TripleFaults() => Kernel(a =>
    {
        a.mov(eax, 1);
        a.mov(ebx, 2);
        a.xor(ecx, ecx);
        a.div(ecx);
        a.hlt();
    });

    /// <summary>Spins forever.</summary>
    public static byte[] Spins() => Kernel(a =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        a.inc(eax);
        a.jmp(top);
    });

    /// <summary>Runs an x87 instruction the core does not implement.</summary>
    public static byte[] RunsFsin() => Kernel(a =>
    {
        a.mov(eax, 1);
        a.fsin();
        a.hlt();
    });
}
