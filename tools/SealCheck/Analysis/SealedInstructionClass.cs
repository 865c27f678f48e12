using Iced.Intel;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// THE sealed instruction class: every instruction able to undo the kernel's protections. This is
/// the single definition used by the scanner, by <c>--list-class</c> and (by hand) by README.md.
/// </summary>
public static class SealedInstructionClass
{
    private static readonly Register[] ProtectedControlRegisters = [Register.CR0, Register.CR3, Register.CR4];

    public static IReadOnlyList<SealedInstructionKind> Kinds { get; } =
    [
        new("MOV CRn, reg", [Code.Mov_cr_r32, Code.Mov_cr_r64], ProtectedControlRegisters,
            "CR0 (PG, WP), CR3 (page-table root), CR4 (SMEP, SMAP, UMIP, PAE/LA57, PKE/PKS, CET)"),
        new("LMSW", [Code.Lmsw_rm16, Code.Lmsw_r32m16, Code.Lmsw_r64m16], null,
            "writes CR0 bits 0-3 (PE, MP, EM, TS)"),
        new("CLTS", [Code.Clts], null,
            "writes CR0 (clears TS)"),
        new("WRMSR", [Code.Wrmsr], null,
            "any MSR: EFER (NXE, LME), LSTAR/STAR (syscall entry), IA32_PKRS, IA32_S_CET, PAT, APIC base, ..."),
        new("WRMSRNS", [Code.Wrmsrns], null,
            "non-serialising WRMSR: same reach as WRMSR"),
        new("WRMSRLIST", [Code.Wrmsrlist], null,
            "writes a list of MSRs from memory: same reach as WRMSR"),
        new("XRSTORS", [Code.Xrstors_mem, Code.Xrstors64_mem], null,
            "restores supervisor state components, several of them MSR-backed (CET, PASID, HWP, ...)"),
        new("XSETBV", [Code.Xsetbv], null,
            "writes XCR0, which selects the enabled extended state components"),
        new("LGDT", [Code.Lgdt_m1632_16, Code.Lgdt_m1632, Code.Lgdt_m1664], null,
            "replaces the GDT: code/data segments, the TSS descriptor, call gates"),
        new("LIDT", [Code.Lidt_m1632_16, Code.Lidt_m1632, Code.Lidt_m1664], null,
            "replaces the IDT: every exception and interrupt entry point"),
        new("LTR", [Code.Ltr_rm16, Code.Ltr_r32m16, Code.Ltr_r64m16], null,
            "loads the TSS: RSP0 and the IST stacks used on faults"),
        new("LLDT", [Code.Lldt_rm16, Code.Lldt_r32m16, Code.Lldt_r64m16], null,
            "loads an LDT: extra code/data segments and call gates"),
    ];

    /// <summary>Deliberately NOT sealed, with the reason (printed by --list-class and in README.md).</summary>
    public static IReadOnlyList<(string Name, string Reason)> Exclusions { get; } =
    [
        ("MOV CR8, reg", "CR8 is the task-priority register (interrupt masking), not a protection bit"),
        ("MOV CR2, reg", "CR2 only holds the last page-fault address"),
        ("MOV DRn, reg", "debug registers: breakpoints, not memory or control-flow protections"),
        ("XRSTOR, XRSTOR64", "restore only user state components enabled in XCR0 (XCR0 itself is written by XSETBV)"),
        ("WRPKRU", "PKRU governs user-mode pages only; supervisor keys (IA32_PKRS) need WRMSR"),
        ("SGDT, SIDT, STR, SLDT, SMSW, MOV reg, CRn", "read-only"),
    ];

    private static readonly SealedInstructionKind?[] ByCode = BuildLookup();

    /// <summary>
    /// True when every member is a legacy-encoded opcode of the 0F map, so an instruction of the
    /// class can only start at bytes of the form: prefixes (legacy, or REX in 64-bit mode), then 0F.
    /// The every-offset scan uses this as an exact pre-check (see <see cref="EncodingPrecheck"/>).
    /// </summary>
    public static bool AllLegacyMap0F { get; } = Kinds.SelectMany(k => k.Codes).All(code =>
    {
        OpCodeInfo info = code.ToOpCode();
        return info.Encoding == EncodingKind.Legacy && info.Table == OpCodeTableKind.T0F;
    });

    private static SealedInstructionKind?[] BuildLookup()
    {
        var table = new SealedInstructionKind?[Enum.GetValues<Code>().Length];
        foreach (SealedInstructionKind kind in Kinds)
        {
            foreach (Code code in kind.Codes)
            {
                table[(int)code] = kind;
            }
        }

        return table;
    }

    /// <summary>The sealed-class kind of a decoded instruction, or null when it is not in the class.</summary>
    public static SealedInstructionKind? Classify(in Instruction instruction)
    {
        SealedInstructionKind? kind = ByCode[(int)instruction.Code];
        return kind is not null && kind.Matches(instruction) ? kind : null;
    }
}
