using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// 16-bit effective addressing (Intel SDM vol. 2, 2.1.5, table 2-1) in a 16-bit code segment and
/// through the 0x67 prefix in 32-bit code: each ModRM form reads the word at segment base +
/// (sum mod 2^16), BP-based forms default to SS, an override wins. DS, SS and ES have different
/// bases and the register values make the sums wrap, so a wrong base, segment or wrap reads a
/// different marker.
/// </summary>
public sealed class Addressing16Tests
{
    private const ulong DsBase = 0x30000, SsBase = 0x50000, EsBase = 0x60000;
    private const ushort Bx = 0xFFF0, Si = 0x0024, Di = 0x1234, Bp = 0xFFFE;

    private static readonly Dictionary<string, (Action<Assembler> Load, ulong Linear)> Forms = new()
    {
        ["[bx+si]"] = (a => a.mov(ax, __word_ptr[bx + si]), DsBase + W(Bx + Si)),
        ["[bx+di]"] = (a => a.mov(ax, __word_ptr[bx + di]), DsBase + W(Bx + Di)),
        ["[bp+si]"] = (a => a.mov(ax, __word_ptr[bp + si]), SsBase + W(Bp + Si)),
        ["[bp+di]"] = (a => a.mov(ax, __word_ptr[bp + di]), SsBase + W(Bp + Di)),
        ["[si]"] = (a => a.mov(ax, __word_ptr[si]), DsBase + Si),
        ["[di]"] = (a => a.mov(ax, __word_ptr[di]), DsBase + Di),
        // Iced's assembler picks 32-bit addressing for an absolute address in 32-bit code: bytes
        ["[disp16]"] = (a => Bytes(a, 0x8B, 0x06, 0x21, 0x43), DsBase + 0x4321),              // mov ax, [0x4321]
        ["moffs16"] = (a => Bytes(a, 0xA1, 0x21, 0x43), DsBase + 0x4321),                     // mov ax, [moffs16]
        ["ss:[disp16]"] = (a => { a.db(0x36); Bytes(a, 0x8B, 0x06, 0xFE, 0xFF); }, SsBase + 0xFFFE),
        ["[bx]"] = (a => a.mov(ax, __word_ptr[bx]), DsBase + Bx),
        ["[bx+si+disp8]"] = (a => a.mov(ax, __word_ptr[bx + si + 0x10]), DsBase + W(Bx + Si + 0x10)),
        ["[bx+di-disp8]"] = (a => a.mov(ax, __word_ptr[bx + di - 0x20]), DsBase + W(Bx + Di - 0x20)),
        ["[bp+disp8]"] = (a => a.mov(ax, __word_ptr[bp + 4]), SsBase + W(Bp + 4)),
        ["[bp+si+disp16]"] = (a => a.mov(ax, __word_ptr[bp + si + 0x1000]), SsBase + W(Bp + Si + 0x1000)),
        ["[si+disp16]"] = (a => a.mov(ax, __word_ptr[si + 0xFFF0]), DsBase + W(Si + 0xFFF0)),
        ["[di+disp8]"] = (a => a.mov(ax, __word_ptr[di + 0x7F]), DsBase + W(Di + 0x7F)),
        ["[bx+disp16]"] = (a => a.mov(ax, __word_ptr[bx + 0x0100]), DsBase + W(Bx + 0x100)),
        ["ds:[bp]"] = (a => a.mov(ax, __word_ptr.ds[bp]), DsBase + Bp),
        ["es:[bx+si]"] = (a => a.mov(ax, __word_ptr.es[bx + si]), EsBase + W(Bx + Si)),
        ["ss:[bx]"] = (a => a.mov(ax, __word_ptr.ss[bx]), SsBase + Bx),
    };

    /// <summary>A 16-bit-addressed, 16-bit-operand instruction: prefixed with 0x67 0x66 in 32-bit code.</summary>
    private static void Bytes(Assembler a, params byte[] bytes)
    {
        if (a.Bitness == 32) a.db(0x67, 0x66);
        a.db(bytes);
    }

    private static ulong W(int offset) => (ulong)(offset & 0xFFFF);

    public static TheoryData<string> FormNames => new(Forms.Keys);

    private static GuestBox SegmentedBox(int codeBits)
    {
        var box = new GuestBox(longMode: false);
        var cpu = box.Cpu;
        cpu.SetSegment(Cpu.DS, new SegmentRegister { Selector = 0x10, Base = DsBase, Limit = 0xFFFF, Attributes = 0x0093 });
        cpu.SetSegment(Cpu.SS, new SegmentRegister { Selector = 0x18, Base = SsBase, Limit = 0xFFFF, Attributes = 0x0093 });
        cpu.SetSegment(Cpu.ES, new SegmentRegister { Selector = 0x20, Base = EsBase, Limit = 0xFFFF, Attributes = 0x0093 });
        if (codeBits == 16)
        {
            cpu.SetSegment(Cpu.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFF, Attributes = 0x009B });
        }
        Assert.Equal(codeBits, cpu.Bitness);
        cpu.Gpr[Cpu.RBX] = 0xAAAA_0000UL | Bx;       // the upper bits must not take part
        cpu.Gpr[Cpu.RSI] = 0xBBBB_0000UL | Si;
        cpu.Gpr[Cpu.RDI] = 0xCCCC_0000UL | Di;
        cpu.Gpr[Cpu.RBP] = 0xDDDD_0000UL | Bp;
        cpu.Gpr[Cpu.RSP] = 0x8000;
        // a marker at every word that a wrong computation would read instead
        for (ulong at = 0x20000; at < 0x80000; at += 2)
        {
            BitConverter.TryWriteBytes(box.Memory.Slice(at, 2), (ushort)(at >> 1));
        }
        return box;
    }

    [Theory]
    [MemberData(nameof(FormNames))]
    public void Sixteen_bit_code_reads_the_word_at_segment_base_plus_the_16_bit_offset(string form)
    {
        var (load, linear) = Forms[form];
        using var box = SegmentedBox(16);
        BitConverter.TryWriteBytes(box.Memory.Slice(linear, 2), (ushort)0x5EED);
        box.Load(a => { load(a); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x5EEDUL, box.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
    }

    [Theory]
    [MemberData(nameof(FormNames))]
    public void Address_size_prefix_in_32_bit_code_uses_the_same_16_bit_forms(string form)
    {
        var (load, linear) = Forms[form];
        using var box = SegmentedBox(32);
        BitConverter.TryWriteBytes(box.Memory.Slice(linear, 2), (ushort)0x5EED);
        box.Load(a => { load(a); a.hlt(); });
        Assert.Equal(0x67, box.Memory.Slice(GuestBox.CodeBase, 16).ToArray().Take(3).First(b => b is not (0x26 or 0x36 or 0x3E or 0x66)));  // really 16-bit addressing
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x5EEDUL, box.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
    }

    [Fact]
    public void Stores_and_lea_wrap_at_64_KiB()
    {
        using var box = SegmentedBox(32);
        box.Load(a =>
        {
            a.mov(__word_ptr[bx + si + 0x10], 0x7777);   // DS:(0xFFF0 + 0x24 + 0x10) mod 2^16 = DS:0x0024
            a.lea(eax, __[bx + si]);                       // 16-bit address, zero-extended to 32
            a.lea(cx, __[bp + di + 2]);
            a.hlt();
        });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x7777, BitConverter.ToUInt16(box.Memory.Slice(DsBase + 0x24, 2)));
        Assert.Equal((ulong)W(Bx + Si), box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal((ulong)W(Bp + Di + 2), box.Cpu.Gpr[Cpu.RCX] & 0xFFFF);
    }

    [Fact]
    public void Sixteen_bit_string_instructions_use_si_di_cx_and_keep_the_upper_halves()
    {
        using var box = SegmentedBox(16);
        box.Cpu.Gpr[Cpu.RSI] = 0x1234_FFFE;     // SI wraps from 0xFFFE to 0x0001 after 3 bytes
        box.Cpu.Gpr[Cpu.RDI] = 0x5678_0010;
        box.Cpu.Gpr[Cpu.RCX] = 0x9ABC_0003;
        box.Memory.Slice(DsBase + 0xFFFE, 2).Fill(0x11);
        box.Memory.Slice(DsBase + 0x0000, 1).Fill(0x22);
        box.Load(a => { a.rep.movsb(); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(new byte[] { 0x11, 0x11, 0x22 }, box.Memory.Slice(EsBase + 0x10, 3).ToArray());
        Assert.Equal(0x1234_0001UL, box.Cpu.Gpr[Cpu.RSI]);
        Assert.Equal(0x5678_0013UL, box.Cpu.Gpr[Cpu.RDI]);
        Assert.Equal(0x9ABC_0000UL, box.Cpu.Gpr[Cpu.RCX]);
    }

    [Fact]
    public void Sixteen_bit_stack_push_pop_call_ret_use_sp()
    {
        using var box = SegmentedBox(16);
        box.Cpu.Gpr[Cpu.RSP] = 0x7777_0002;     // SP wraps below zero
        box.Load(a =>
        {
            var f = a.CreateLabel();
            a.push(0x1357);
            a.call(f);
            a.pop(bx);
            a.hlt();
            a.Label(ref f);
            a.mov(bp, sp);
            a.mov(ax, __word_ptr[bp + 2]);
            a.ret();
        });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x1357UL, box.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        Assert.Equal(0x1357UL, box.Cpu.Gpr[Cpu.RBX] & 0xFFFF);
        Assert.Equal(0x7777_0002UL, box.Cpu.Gpr[Cpu.RSP]);
        Assert.Equal(0x1357, BitConverter.ToUInt16(box.Memory.Slice(SsBase + 0x0000, 2)));
    }
}
