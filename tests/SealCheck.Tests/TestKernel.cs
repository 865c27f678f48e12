using HekiGuest.Tools.SealCheck.Analysis;
using HekiGuest.Elf;
using HekiGuest.Tools.SealCheck.Synthetic;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.Tools.SealCheck.Tests;

/// <summary>
/// Crafts small kernel ELFs for the tests: a 32-bit boot range, 64-bit .text and .heki.sealed, each
/// assembled with Iced from the code the test supplies, laid out per the kernel ELF contract unless
/// a knob breaks it on purpose.
/// </summary>
public sealed class TestKernel
{
    public const ulong BootAddress = 0x100000;
    public const ulong TextAddress = 0x101000;
    public const ulong DefaultSealedAddress = 0x104000;
    public const ulong DefaultRodataAddress = 0x106000;

    public Action<Assembler> Boot32 { get; set; } = a => { a.cli(); a.mov(esp, 0x9000); a.hlt(); };
    public Action<Assembler> Text64 { get; set; } = a => { a.push(rbp); a.mov(rbp, rsp); a.xor(eax, eax); a.pop(rbp); a.ret(); };
    public Action<Assembler> Sealed64 { get; set; } = a => { a.mov(cr4, rdi); a.ret(); a.wrmsr(); a.ret(); };

    /// <summary>Raw bytes appended to .text after <see cref="Text64"/> (data inside text, odd encodings).</summary>
    public byte[] TextTail { get; set; } = [];

    public ulong SealedAddress { get; set; } = DefaultSealedAddress;
    public ulong RodataAddress { get; set; } = DefaultRodataAddress;
    public bool IncludeSealed { get; set; } = true;
    public bool IncludeSymbols { get; set; } = true;
    public bool IncludeCode32Symbols { get; set; } = true;
    public bool SealedSharesTextSegment { get; set; }
    public uint SealedSegmentFlags { get; set; } = ElfConstants.PfRead | ElfConstants.PfExecute;
    public bool PadSealedToPage { get; set; } = true;
    public string? TextSymbol { get; set; } = "kmain";

    /// <summary>Extra symbols (name, address) for layout and symbol-pairing tests.</summary>
    public List<(string Name, ulong Value)> ExtraSymbols { get; } = [];

    /// <summary>Standard symbols that are NOT emitted (e.g. "__heki_code32_end_boot"); extras always are.</summary>
    public HashSet<string> OmitSymbols { get; } = [];

    public byte[] Boot32Bytes => Assemble(32, Boot32, BootAddress);

    public byte[] Text64Bytes => [.. Assemble(64, Text64, TextAddress), .. TextTail];

    public byte[] SealedBytes
    {
        get
        {
            byte[] code = Assemble(64, Sealed64, SealedAddress);
            if (!PadSealedToPage)
            {
                return code;
            }

            var padded = new byte[(code.Length + 4095) / 4096 * 4096];
            Array.Fill(padded, (byte)0xCC);
            code.CopyTo(padded, 0);
            return padded;
        }
    }

    public byte[] Build()
    {
        byte[] boot = Boot32Bytes;
        byte[] text = Text64Bytes;
        byte[] sealedCode = SealedBytes;
        var builder = new ElfImageBuilder { Entry = BootAddress, IncludeSymbolTable = IncludeSymbols };
        builder.AddSection(".boot", BootAddress, boot, ElfImageBuilder.CodeFlags)
            .AddSection(".text", TextAddress, text, ElfImageBuilder.CodeFlags);
        if (IncludeSealed)
        {
            builder.AddSection(KernelVerifier.SealedSectionName, SealedAddress, sealedCode, ElfImageBuilder.CodeFlags, 4096);
        }

        builder.AddSection(".rodata", RodataAddress, new byte[64], ElfImageBuilder.ReadOnlyFlags);
        uint rx = ElfConstants.PfRead | ElfConstants.PfExecute;
        if (IncludeSealed && SealedSharesTextSegment)
        {
            builder.AddSegment(rx, [".boot", ".text", KernelVerifier.SealedSectionName]);
        }
        else
        {
            builder.AddSegment(rx, [".boot", ".text"]);
            if (IncludeSealed)
            {
                builder.AddSegment(SealedSegmentFlags, [KernelVerifier.SealedSectionName]);
            }
        }

        builder.AddSegment(ElfConstants.PfRead, [".rodata"]);

        void Symbol(string name, ulong value, byte type = ElfConstants.SttNotype)
        {
            if (!OmitSymbols.Contains(name))
            {
                builder.AddSymbol(name, value, type);
            }
        }

        Symbol("heki_entry32", BootAddress, ElfConstants.SttFunc);
        if (IncludeCode32Symbols)
        {
            Symbol("__heki_code32_start_boot", BootAddress);
            Symbol("__heki_code32_end_boot", BootAddress + (ulong)boot.Length);
        }

        if (TextSymbol is not null)
        {
            Symbol(TextSymbol, TextAddress, ElfConstants.SttFunc);
        }

        if (IncludeSealed)
        {
            Symbol(SealedLayoutChecker.StartSymbol, SealedAddress);
            Symbol(SealedLayoutChecker.EndSymbol, SealedLayoutChecker.RoundUpToPage(SealedAddress + (ulong)sealedCode.Length));
            Symbol("heki_sealed_write_cr4", SealedAddress, ElfConstants.SttFunc);
        }

        foreach ((string name, ulong value) in ExtraSymbols)
        {
            builder.AddSymbol(name, value);
        }

        return builder.Build();
    }

    public static byte[] Assemble(int bitness, Action<Assembler> body, ulong address)
    {
        var assembler = new Assembler(bitness);
        body(assembler);
        var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }
}
