using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// Translation contexts (Cpu.TranslationContexts.cs): a host that switches the core between
/// address spaces (the VSM host's VTLs) keeps each one's TLB entries and decoded-code links apart,
/// keeps them across switches, and loses them on any global flush made in between.
/// </summary>
public sealed class TranslationContextTests
{
    private const ulong RootA = 0xA000, RootB = 0xB000;
    private const ulong Data = GuestBox.DataBase;

    /// <summary>Identity, except that the data page and the code page map to a physical page that
    /// depends on CR3 (two address spaces); counts its calls, so a TLB hit is visible.</summary>
    private sealed class TwoSpaces(GuestBox box) : IAddressTranslator
    {
        public ulong DataA = 0x50000, DataB = 0x60000, CodeA = GuestBox.CodeBase, CodeB = 0x30000;
        public int Calls;

        public bool TryTranslate(ulong linear, AccessKind kind, int size, int cpl, out ulong physical, out GuestFault fault)
        {
            Calls++;
            fault = default;
            ulong page = linear & ~0xFFFUL, off = linear & 0xFFF;
            bool a = box.Cpu.Cr3 == RootA;
            physical = page == Data ? (a ? DataA : DataB) + off
                : page == GuestBox.CodeBase ? (a ? CodeA : CodeB) + off
                : linear;
            return true;
        }
    }

    private static (GuestBox Box, TwoSpaces Spaces) Machine()
    {
        var box = new GuestBox();
        var spaces = new TwoSpaces(box);
        box.Cpu.Translator = spaces;
        box.Cpu.Cr3 = RootA;
        box.Cpu.FlushTlb();
        return (box, spaces);
    }

    private static ulong RunAt(GuestBox box)
    {
        box.Cpu.Rip = GuestBox.CodeBase;
        Assert.Equal(StopReason.Halted, box.Run());
        return box.Cpu.Gpr[Cpu.RAX];
    }

    // the same "read the data page" code in both address spaces; 0x1111 in A's data page, 0x2222 in B's
    private static void LoadReaders(GuestBox box, TwoSpaces spaces)
    {
        box.Load(a => { a.mov(rax, __qword_ptr[Data]); a.hlt(); });
        box.Load(a => { a.mov(rax, __qword_ptr[Data]); a.hlt(); }, spaces.CodeB);
        box.WriteU64(spaces.DataA, 0x1111);
        box.WriteU64(spaces.DataB, 0x2222);
    }

    private static void Enter(GuestBox box, ulong root, int context)
    {
        box.Cpu.Cr3 = root;
        box.Cpu.SwitchTranslationContext(context);
    }

    [Fact]
    public void Each_context_keeps_its_own_translations_and_finds_them_again_after_a_switch()
    {
        var (box, spaces) = Machine();
        using var _ = box;
        LoadReaders(box, spaces);

        Assert.Equal(0x1111UL, RunAt(box));
        Enter(box, RootB, 1);
        Assert.Equal(0x2222UL, RunAt(box));
        Enter(box, RootA, 0);
        int before = spaces.Calls;
        Assert.Equal(0x1111UL, RunAt(box));
        Assert.Equal(before, spaces.Calls);             // context 0's code and data entries survived
        Enter(box, RootB, 1);
        Assert.Equal(0x2222UL, RunAt(box));
        Assert.Equal(before, spaces.Calls);             // and so did context 1's
        Assert.Equal(1, box.Cpu.TranslationContext);
    }

    [Fact]
    public void A_global_flush_made_in_one_context_reaches_the_contexts_it_left()
    {
        var (box, spaces) = Machine();
        using var _ = box;
        LoadReaders(box, spaces);
        box.WriteU64(0x70000, 0x7777);
        Assert.Equal(0x1111UL, RunAt(box));

        // while context 1 runs, context 0's mapping changes (a higher VTL editing a lower one's
        // protections or registers): the host flushes, and context 0 must not use its old entry
        Enter(box, RootB, 1);
        spaces.DataA = 0x70000;
        box.Cpu.FlushTlb();
        Enter(box, RootA, 0);
        Assert.Equal(0x7777UL, RunAt(box));
    }

    [Fact]
    public void Decoded_code_at_one_rip_is_never_taken_for_another_contexts_code()
    {
        var (box, spaces) = Machine();
        using var _ = box;
        box.Load(a => { a.mov(eax, 1); a.hlt(); });
        box.Load(a => { a.mov(eax, 2); a.hlt(); }, spaces.CodeB);
        for (int round = 0; round < 3; round++)
        {
            Enter(box, RootA, 0);
            Assert.Equal(1UL, RunAt(box));
            Enter(box, RootB, 1);
            Assert.Equal(2UL, RunAt(box));
        }
    }

    [Fact]
    public void A_register_changed_while_a_context_was_away_is_seen_when_it_returns()
    {
        // context 0 left with CR3 = A; it comes back with CR3 = B (set by a higher VTL meanwhile,
        // without a flush): what its entries were checked under differs, so they are dropped
        var (box, spaces) = Machine();
        using var _ = box;
        LoadReaders(box, spaces);
        Assert.Equal(0x1111UL, RunAt(box));
        Enter(box, RootA, 1);
        Enter(box, RootB, 0);
        Assert.Equal(0x2222UL, RunAt(box));
    }

    [Fact]
    public void Only_contexts_0_to_3_exist()
    {
        using var box = new GuestBox();
        Assert.Throws<ArgumentOutOfRangeException>(() => box.Cpu.SwitchTranslationContext(Cpu.MaxTranslationContexts));
        Assert.Throws<ArgumentOutOfRangeException>(() => box.Cpu.SwitchTranslationContext(-1));
        Assert.Equal(0, box.Cpu.TranslationContext);
    }
}
