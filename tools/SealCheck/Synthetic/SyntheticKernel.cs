using HekiGuest.Tools.SealCheck.Analysis;
using HekiGuest.Elf;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Synthetic;

/// <summary>
/// A clean kernel-shaped ELF with a chosen amount of Iced-assembled 64-bit code, a 32-bit boot
/// range, and a .heki.sealed section holding one of every sealed-class instruction (64-bit, plus a
/// 32-bit range inside it). Used by `--write-sample` for the benchmark until the real kernel exists.
/// </summary>
public static class SyntheticKernel
{
    public const ulong BootAddress = 0x100000;
    public const ulong TextAddress = 0x101000;

    /// <summary>
    /// Builds the sample. Random branch displacements can by chance contain a sealed-class encoding
    /// (for instance 0F 06, CLTS); such a seed is skipped, since the sample must verify clean.
    /// </summary>
    public static byte[] Create(int codeKiB = 256, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(codeKiB, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(codeKiB, 64 * 1024);
        for (int attempt = 0; attempt < 64; attempt++)
        {
            byte[] image = CreateOnce(codeKiB, seed + attempt);
            if (KernelVerifier.Verify(ElfImage.Parse(image, ElfRequirements.Elf64Executable)).IsClean)
            {
                return image;
            }
        }

        throw new InvalidOperationException("could not generate a clean sample kernel in 64 attempts");
    }

    private static byte[] CreateOnce(int codeKiB, int seed)
    {
        // Like the kernel's linker script, .heki.sealed follows .text on the next page. The text
        // length does not depend on the sealed routines' addresses (calls are rel32), so a first
        // pass at a provisional address gives the length and a second pass the final code.
        var sealedRoutines = new List<(string Name, ulong Address)>();
        var functions = new List<(string Name, ulong Address)>();
        ulong provisional = RoundUp(TextAddress + ((ulong)codeKiB * 1024 * 2));
        AssembleSealed(provisional, sealedRoutines, out _, out _);
        byte[] text = AssembleText(TextAddress, codeKiB * 1024, new Random(seed), sealedRoutines, functions);
        ulong sealedAddress = RoundUp(TextAddress + (ulong)text.Length);
        sealedRoutines.Clear();
        functions.Clear();
        byte[] sealedCode = AssembleSealed(sealedAddress, sealedRoutines, out ulong sealed32Start, out ulong sealed32End);
        byte[] sealedSection = PadToPage(sealedCode, 0xCC);
        var random = new Random(seed);
        text = AssembleText(TextAddress, codeKiB * 1024, random, sealedRoutines, functions);

        byte[] boot = AssembleBoot(BootAddress, sealed32Start);
        ulong rodataAddress = RoundUp(sealedAddress + (ulong)sealedSection.Length);
        byte[] rodata = new byte[4096];
        random.NextBytes(rodata);

        var builder = new ElfImageBuilder { Entry = BootAddress };
        builder.AddSection(".boot.text", BootAddress, boot, ElfImageBuilder.CodeFlags)
            .AddSection(".text", TextAddress, text, ElfImageBuilder.CodeFlags)
            .AddSection(KernelVerifier.SealedSectionName, sealedAddress, sealedSection, ElfImageBuilder.CodeFlags, 4096)
            .AddSection(".rodata", rodataAddress, rodata, ElfImageBuilder.ReadOnlyFlags)
            .AddNobitsSection(".bss", rodataAddress + 0x1000, 0x4000, ElfImageBuilder.DataFlags)
            .AddSegment(ElfConstants.PfRead | ElfConstants.PfExecute, [".boot.text", ".text"])
            .AddSegment(ElfConstants.PfRead | ElfConstants.PfExecute, [KernelVerifier.SealedSectionName])
            .AddSegment(ElfConstants.PfRead, [".rodata"])
            .AddSegment(ElfConstants.PfRead | ElfConstants.PfWrite, [".bss"]);
        builder.AddSymbol("heki_entry32", BootAddress, ElfConstants.SttFunc)
            .AddSymbol(Code32Range.StartPrefix + "_boot", BootAddress)
            .AddSymbol(Code32Range.EndPrefix + "_boot", BootAddress + (ulong)boot.Length)
            .AddSymbol(SealedLayoutChecker.StartSymbol, sealedAddress)
            .AddSymbol(SealedLayoutChecker.EndSymbol, sealedAddress + (ulong)sealedSection.Length)
            .AddSymbol(Code32Range.StartPrefix + "_sealed", sealed32Start)
            .AddSymbol(Code32Range.EndPrefix + "_sealed", sealed32End);
        foreach ((string name, ulong address) in sealedRoutines.Concat(functions))
        {
            builder.AddSymbol(name, address, ElfConstants.SttFunc);
        }

        return builder.Build();
    }

    private static byte[] AssembleSealed(ulong address, List<(string Name, ulong Address)> routines, out ulong code32Start, out ulong code32End)
    {
        var a = new Assembler(64);
        var labels = new List<(string Name, Label Label)>();
        void Routine(string name, Action body)
        {
            Label label = a.CreateLabel(name);
            a.Label(ref label);
            labels.Add((name, label));
            body();
            a.ret();
        }

        Routine("heki_write_cr0", () => a.mov(cr0, rdi));
        Routine("heki_write_cr3", () => a.mov(cr3, rdi));
        Routine("heki_write_cr4", () => a.mov(cr4, rdi));
        Routine("heki_wrmsr", () => { a.mov(ecx, edi); a.mov(eax, esi); a.mov(rdx, rsi); a.shr(rdx, 32); a.wrmsr(); });
        Routine("heki_wrmsrns", () => { a.mov(ecx, edi); a.mov(eax, esi); a.mov(rdx, rsi); a.shr(rdx, 32); a.wrmsrns(); });
        Routine("heki_xsetbv", () => { a.mov(ecx, edi); a.mov(eax, esi); a.mov(rdx, rsi); a.shr(rdx, 32); a.xsetbv(); });
        Routine("heki_xrstors", () => { a.mov(eax, -1); a.mov(edx, -1); a.xrstors(__[rdi]); });
        Routine("heki_lgdt", () => a.lgdt(__[rdi]));
        Routine("heki_lidt", () => a.lidt(__[rdi]));
        Routine("heki_ltr", () => a.ltr(di));
        Routine("heki_lldt", () => a.lldt(di));
        Routine("heki_clts", () => a.clts());
        Routine("heki_lmsw", () => a.lmsw(di));
        byte[] code64 = Assemble(a, address, out AssemblerResult result64);
        foreach ((string name, Label label) in labels)
        {
            routines.Add((name, result64.GetLabelRIP(label)));
        }

        // 32-bit protected-mode part of the sealed section (the boot stub calls it before long mode).
        code32Start = address + (ulong)code64.Length;
        var b = new Assembler(32);
        b.mov(cr3, eax);
        b.mov(cr4, ebx);
        b.mov(ecx, 0xC0000080);
        b.wrmsr();
        b.mov(cr0, edx);
        b.lgdt(__[esi]);
        b.ret();
        byte[] code32 = Assemble(b, code32Start, out _);
        code32End = code32Start + (ulong)code32.Length;
        routines.Add(("heki_enter_long_mode32", code32Start));
        return [.. code64, .. code32];
    }

    private static byte[] AssembleBoot(ulong address, ulong sealedEntry32)
    {
        var a = new Assembler(32);
        Label loop = a.CreateLabel();
        a.cli();
        a.mov(esp, 0x90000);
        a.mov(ecx, 64);
        a.Label(ref loop);
        a.mov(eax, __dword_ptr[ecx * 4 + 0x8000]);
        a.add(eax, 0x1234);
        a.mov(__dword_ptr[ecx * 4 + 0x9000], eax);
        a.dec(ecx);
        a.jnz(loop);
        a.mov(eax, 0x1000);
        a.mov(ebx, 0x20);
        a.call(sealedEntry32);
        a.hlt();
        return Assemble(a, address, out _);
    }

    private static byte[] AssembleText(ulong address, int targetBytes, Random random,
        IReadOnlyList<(string Name, ulong Address)> sealedRoutines, List<(string Name, ulong Address)> functions)
    {
        // Roughly 70 bytes per function; labels first so calls may go forward.
        int count = Math.Max(1, targetBytes / 70);
        var a = new Assembler(64);
        Label[] labels = [.. Enumerable.Range(0, count).Select(i => a.CreateLabel($"fn_{i:x5}"))];
        AssemblerRegister64[] regs = [rax, rbx, rcx, rdx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        AssemblerRegister32[] regs32 = [eax, ebx, ecx, edx, esi, edi, r8d, r9d, r10d, r11d];
        AssemblerRegister64 R() => regs[random.Next(regs.Length)];
        for (int f = 0; f < count; f++)
        {
            a.Label(ref labels[f]);
            a.push(rbp);
            a.mov(rbp, rsp);
            a.sub(rsp, 0x40);
            Label done = a.CreateLabel();
            int body = 6 + random.Next(14);
            for (int i = 0; i < body; i++)
            {
                switch (random.Next(14))
                {
                    case 0: a.mov(R(), R()); break;
                    case 1: a.add(R(), Imm32(random)); break;
                    case 2: a.xor(regs32[random.Next(regs32.Length)], regs32[random.Next(regs32.Length)]); break;
                    case 3: a.imul(R(), R()); break;
                    case 4: a.lea(R(), __[R() + (R() * 4) + Disp8(random)]); break;
                    case 5: a.mov(R(), __qword_ptr[rbp - (8 * (1 + random.Next(7)))]); break;
                    case 6: a.mov(__qword_ptr[rbp - (8 * (1 + random.Next(7)))], R()); break;
                    case 7: a.cmp(R(), Disp8(random)); a.jne(done); break;
                    case 8: a.call(labels[random.Next(count)]); break;
                    case 9: a.shl(R(), (byte)(1 + random.Next(30))); break;
                    case 10: a.movzx(regs32[random.Next(regs32.Length)], __byte_ptr[R() + Disp8(random)]); break;
                    case 11: a.test(R(), R()); a.je(done); break;
                    case 12: a.mov(regs32[random.Next(regs32.Length)], (uint)Imm32(random)); break;
                    default: a.call(sealedRoutines[random.Next(sealedRoutines.Count)].Address); break;
                }
            }

            a.Label(ref done);
            a.leave();
            a.ret();
            a.int3();
        }

        byte[] code = Assemble(a, address, out AssemblerResult result);
        for (int f = 0; f < count; f++)
        {
            functions.Add(($"fn_{f:x5}", result.GetLabelRIP(labels[f])));
        }

        return code;
    }

    /// <summary>A random immediate with no 0x0F byte (so that immediates never start a 0F-map encoding).</summary>
    private static int Imm32(Random random)
    {
        uint value = (uint)random.Next(int.MinValue, int.MaxValue) & 0x7fff_ffff;
        for (int shift = 0; shift < 32; shift += 8)
        {
            if (((value >> shift) & 0xff) == 0x0f)
            {
                value ^= 0x10u << shift;
            }
        }

        return (int)value;
    }

    private static int Disp8(Random random)
    {
        int value = random.Next(-128, 128);
        return value == 0x0f ? 0x1f : value;
    }

    private static byte[] Assemble(Assembler assembler, ulong address, out AssemblerResult result)
    {
        var stream = new MemoryStream();
        result = assembler.Assemble(new StreamCodeWriter(stream), address, BlockEncoderOptions.ReturnNewInstructionOffsets);
        return stream.ToArray();
    }

    private static byte[] PadToPage(byte[] code, byte fill)
    {
        var padded = new byte[RoundUp((ulong)Math.Max(code.Length, 1))];
        Array.Fill(padded, fill);
        code.CopyTo(padded, 0);
        return padded;
    }

    private static ulong RoundUp(ulong value) => SealedLayoutChecker.RoundUpToPage(value);
}
