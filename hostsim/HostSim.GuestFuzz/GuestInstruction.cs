using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Reporting;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>The instruction a CPU is at, as a repro line: mode, RIP, bytes and disassembly.</summary>
public static class GuestInstruction
{
    public static SymbolMap Symbols { get; } = new(
    [
        Symbol("stubs", GuestLayout.Text), Symbol("handler", HandlerText.Common), Symbol("restart", HandlerText.Restart),
        Symbol("syscall_entry", HandlerText.SyscallEntry), Symbol("boot", HandlerText.Boot),
        Symbol("kernel_random_code", GuestLayout.KernelCode), Symbol("kernel_data", GuestLayout.KernelCode + (ulong)GuestLayout.CodeSize),
        Symbol("user_random_code", GuestLayout.UserCode), Symbol("user_data", GuestLayout.UserData),
    ]);

    private static HekiGuest.Elf.ElfSymbol Symbol(string name, ulong at) => new(name, at, 0, 2, 1, SectionIndex: 1);

    /// <summary>"64-bit CPL0 rip 0x30012: f3aa rep stosb ... &lt;kernel_random_code+0x12&gt;".</summary>
    public static string Describe(VirtualMachine vm, ulong rip)
    {
        var cpu = vm.Cpu;
        string text = CrashReport.Disassemble(vm, rip, Symbols);
        ulong linear = rip + (cpu.Bitness == 64 ? 0 : cpu.Segments[HekiGuest.HostSim.Cpu.Cpu.CS].Base);
        if (text.EndsWith("(unreadable)", StringComparison.Ordinal) && linear + 15 <= GuestLayout.MemorySize)
        {
            // The machine's peek walks as a supervisor read, which SMAP refuses for user pages
            // when RFLAGS.AC is clear; the fuzz guest maps its RAM 1:1, so read the bytes there.
            var bytes = vm.Memory.Slice(linear, 15).ToArray();
            var decoder = Iced.Intel.Decoder.Create(cpu.Bitness, new Iced.Intel.ByteArrayCodeReader(bytes), rip);
            decoder.Decode(out var insn);
            var output = new Iced.Intel.StringOutput();
            new Iced.Intel.IntelFormatter().Format(insn, output);
            text = $"{rip:x16}  {Convert.ToHexString(bytes, 0, insn.Length).ToLowerInvariant(),-24} {output.ToStringAndReset(),-40} <{Symbols.Describe(rip)}> (bytes read 1:1)";
        }
        return $"{cpu.Bitness}-bit CPL{cpu.Cpl} CS 0x{cpu.Segments[HekiGuest.HostSim.Cpu.Cpu.CS].Selector:x} base 0x{cpu.Segments[HekiGuest.HostSim.Cpu.Cpu.CS].Base:x}: " + text;
    }

    /// <summary>The instruction at <paramref name="rip"/> as "rep stosb" (prefix and mnemonic), or null when unreadable.</summary>
    public static string? Mnemonic(VirtualMachine vm, ulong rip)
    {
        var cpu = vm.Cpu;
        Span<byte> buffer = stackalloc byte[15];
        int n = vm.PeekCode(rip, buffer);
        ulong linear = rip + (cpu.Bitness == 64 ? 0 : cpu.Segments[HekiGuest.HostSim.Cpu.Cpu.CS].Base);
        if (n == 0 && linear + 15 <= GuestLayout.MemorySize)
        {
            vm.Memory.Slice(linear, 15).CopyTo(buffer);
            n = 15;
        }
        if (n == 0) return null;
        var decoder = Iced.Intel.Decoder.Create(cpu.Bitness, new Iced.Intel.ByteArrayCodeReader(buffer[..n].ToArray()), rip);
        decoder.Decode(out var insn);
        string prefix = insn.HasRepPrefix || insn.HasRepePrefix ? "rep " : insn.HasRepnePrefix ? "repne " : "";
        return prefix + insn.Mnemonic.ToString().ToLowerInvariant();
    }

    /// <summary>The last instruction the CPU started (where it faulted, stopped or is running).</summary>
    public static string Last(VirtualMachine vm)
    {
        var recent = vm.RecentInstructions();
        return recent.Count == 0 ? "(no instruction started)" : Describe(vm, recent[^1]);
    }
}
