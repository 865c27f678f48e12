using System.Text;
using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Reporting;

/// <summary>
/// The report printed when a guest crashes, hangs or meets an unimplemented instruction: the
/// stop reason, registers, control registers, EFER, the fault chain and the last executed
/// instructions, disassembled with Iced and symbolized from the kernel's symbol table.
/// </summary>
public static class CrashReport
{
    public static string Format(VirtualMachine vm, MachineOutcome outcome, SymbolMap symbols, IReadOnlyList<ulong> recentRips)
    {
        var cpu = vm.Cpu;
        var sb = new StringBuilder();
        sb.AppendLine($"hostsim: {outcome.Kind}: {outcome.Summary}");
        sb.AppendLine($"  after {outcome.Instructions} instructions in {outcome.Elapsed.TotalSeconds:0.000} s; CPL {cpu.Cpl}, {cpu.Bitness}-bit mode");
        if (vm.InspectionFilter is { } filter)
        {
            sb.AppendLine($"  note: {filter.Notice}");
            if (filter.HidesState)
            {
                // stopped in a hidden context: no registers, no instruction history
                sb.AppendLine("  (stopped in a hidden context: registers and recent instructions not shown)");
                return sb.ToString();
            }
        }
        sb.AppendLine($"  RIP {cpu.Rip:x16} ({symbols.Describe(cpu.Rip)})  RFLAGS {cpu.Rflags:x8}");
        string[] names = ["RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"];
        for (int i = 0; i < 16; i += 4)
        {
            sb.Append(' ');
            for (int j = i; j < i + 4; j++) sb.Append($" {names[j],-3} {cpu.ReadGpr(j):x16}");
            sb.AppendLine();
        }
        sb.AppendLine($"  CS {cpu.Segments[Processor.CS].Selector:x4}  SS {cpu.Segments[Processor.SS].Selector:x4}  TR {cpu.Tr.Selector:x4}  GDTR {cpu.Gdtr.Base:x}/{cpu.Gdtr.Limit:x}  IDTR {cpu.Idtr.Base:x}/{cpu.Idtr.Limit:x}");
        sb.AppendLine($"  CR0 {cpu.Cr0:x8}  CR2 {cpu.Cr2:x16}  CR3 {cpu.Cr3:x}  CR4 {cpu.Cr4:x8}  EFER {cpu.Efer:x4}");
        if (outcome.Kind == MachineStopKind.TripleFault && vm.Exceptions.LastChain.Count > 0)
        {
            sb.AppendLine("  fault chain:");
            foreach (var f in vm.Exceptions.LastChain)
            {
                sb.Append($"    vector {f.Vector} ({VectorName(f.Vector)})");
                if (f.ErrorCode is { } e) sb.Append($" error 0x{e:x}");
                if (f.Vector == 14) sb.Append($" cr2 0x{f.Cr2:x}");
                sb.AppendLine($" at {symbols.Describe(f.Rip)}");
            }
        }
        if (recentRips.Count > 0)
        {
            sb.AppendLine($"  last {recentRips.Count} instructions (oldest first):");
            foreach (ulong rip in recentRips) sb.AppendLine("    " + Disassemble(vm, rip, symbols));
        }
        return sb.ToString();
    }

    public static string Disassemble(VirtualMachine vm, ulong rip, SymbolMap symbols)
    {
        var cpu = vm.Cpu;
        Span<byte> bytes = stackalloc byte[15];
        int n = vm.PeekCode(rip, bytes);
        if (n == 0) return $"{rip:x16}  (unreadable)";
        var decoder = Iced.Intel.Decoder.Create(cpu.Bitness == 16 ? 16 : cpu.Bitness, new ByteArrayCodeReader(bytes[..n].ToArray()), rip);
        decoder.Decode(out var insn);
        var formatter = new IntelFormatter();
        var output = new StringOutput();
        formatter.Format(insn, output);
        string hex = Convert.ToHexString(bytes[..Math.Min(insn.Length, n)]).ToLowerInvariant();
        return $"{rip:x16}  {hex,-24} {output.ToStringAndReset(),-40} <{symbols.Describe(rip)}>";
    }

    public static string VectorName(byte v) => v switch
    {
        0 => "#DE", 1 => "#DB", 2 => "NMI", 3 => "#BP", 4 => "#OF", 5 => "#BR", 6 => "#UD", 7 => "#NM",
        8 => "#DF", 10 => "#TS", 11 => "#NP", 12 => "#SS", 13 => "#GP", 14 => "#PF", 16 => "#MF",
        17 => "#AC", 18 => "#MC", 19 => "#XM", 21 => "#CP", _ => "reserved",
    };
}
