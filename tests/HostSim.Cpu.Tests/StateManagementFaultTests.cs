using System.Runtime.Intrinsics;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// Faults of SMSW, the x87 state instructions and the XSAVE family as the SDM lists them, and
/// that a faulting instruction changes nothing: UMIP, alignment, CR4.OSXSAVE, CR0.EM/TS/MP,
/// XRSTOR header and MXCSR checks, XCR0 limiting what is saved and restored.
/// </summary>
public sealed class StateManagementFaultTests
{
    private const ulong Area = GuestBox.DataBase;    // 64-byte aligned
    private const ulong Marker = 0x0123_4567_89AB_CDEF;

    private static GuestBox XsaveBox(ulong xcr0 = 3)
    {
        var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 18;
        box.Cpu.Xcr0 = xcr0;
        box.Cpu.Xmm[0] = System.Runtime.Intrinsics.Vector128.Create(Marker, ~Marker);
        box.Cpu.Gpr[Cpu.RAX] = 3;
        box.Cpu.Gpr[Cpu.RDX] = 0;
        box.Cpu.Gpr[Cpu.RDI] = Area;
        return box;
    }

    private static void AssertFault(GuestBox box, byte vector)
    {
        Assert.True(box.Run() == StopReason.Exception, box.Describe());
        var f = box.Cpu.PendingException!.Value;
        Assert.Equal(vector, f.Fault.Vector);
        Assert.Equal(GuestBox.CodeBase, f.InstructionRip);
        if (vector == GuestFault.GeneralProtection) Assert.Equal(0u, f.Fault.ErrorCode);
        Assert.Equal(0, box.Cpu.DiagnosticsRaised);              // architectural faults, not "unimplemented"
    }

    // ---- SMSW ----

    [Fact]
    public void Smsw_at_cpl3_with_umip_raises_gp0()
    {
        using var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 11;
        box.EnterUserMode();
        box.Load(a => { a.smsw(eax); a.hlt(); });
        AssertFault(box, GuestFault.GeneralProtection);
    }

    [Fact]
    public void Smsw_memory_form_at_cpl3_with_umip_raises_gp0_and_stores_nothing()
    {
        using var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 11;
        box.WriteU64(Area, Marker);
        box.EnterUserMode();
        box.Load(a => { a.smsw(__word_ptr[Area]); a.hlt(); });
        AssertFault(box, GuestFault.GeneralProtection);
        Assert.Equal(Marker, box.ReadU64(Area));
    }

    [Fact]
    public void Smsw_without_umip_at_cpl3_and_with_umip_at_cpl0_stores_cr0()
    {
        using var box = new GuestBox();
        box.Cpu.Cr0 |= 1UL << 16;                                  // WP: above bit 15
        ulong cr0 = box.Cpu.Cr0;
        box.Cpu.Gpr[Cpu.RBX] = 0xFFFF_FFFF_FFFF_FFFF;
        box.Cpu.Gpr[Cpu.RCX] = 0xFFFF_FFFF_FFFF_FFFF;
        box.WriteU64(Area, Marker);
        box.EnterUserMode();                                        // UMIP clear: allowed at CPL 3
        box.Load(a => { a.smsw(bx); a.smsw(ecx); a.smsw(rdx); a.smsw(__word_ptr[Area]); a.int3(); });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.Breakpoint, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0xFFFF_FFFF_FFFF_0000UL | (cr0 & 0xFFFF), box.Cpu.Gpr[Cpu.RBX]);   // r16: only the low word
        Assert.Equal(cr0 & 0xFFFF_FFFF, box.Cpu.Gpr[Cpu.RCX]);                          // r32: CR0[31:0], zero-extended
        Assert.Equal(cr0, box.Cpu.Gpr[Cpu.RDX]);
        Assert.Equal((Marker & ~0xFFFFUL) | (cr0 & 0xFFFF), box.ReadU64(Area));          // m16

        using var box0 = new GuestBox();
        box0.Cpu.Cr4 |= 1UL << 11;
        box0.Load(a => { a.smsw(eax); a.hlt(); });
        Assert.True(box0.Run() == StopReason.Halted, box0.Describe());
        Assert.Equal(box0.Cpu.Cr0 & 0xFFFF_FFFF, box0.Cpu.Gpr[Cpu.RAX]);
    }

    // ---- XSAVE family ----

    public static TheoryData<string> XsaveForms => new() { "xsave", "xsaveopt", "xsavec", "xrstor", "xsave64" };

    private static void EmitXsave(Assembler a, string form, AssemblerMemoryOperand m)
    {
        switch (form)
        {
            case "xsave": a.xsave(m); break;
            case "xsaveopt": a.xsaveopt(m); break;
            case "xsavec": a.xsavec(m); break;
            case "xrstor": a.xrstor(m); break;
            default: a.xsave64(m); break;
        }
    }

    [Theory]
    [MemberData(nameof(XsaveForms))]
    public void Xsave_area_not_64_byte_aligned_raises_gp0_and_writes_nothing(string form)
    {
        using var box = XsaveBox();
        box.Cpu.Gpr[Cpu.RDI] = Area + 16;                          // 16-byte aligned is not enough
        box.Load(a => { EmitXsave(a, form, __[rdi]); a.hlt(); });
        AssertFault(box, GuestFault.GeneralProtection);
        Assert.True(box.Memory.Slice(Area, 1024).ToArray().All(b => b == 0));
        Assert.Equal(Marker, box.Cpu.Xmm[0].GetElement(0));
    }

    [Theory]
    [MemberData(nameof(XsaveForms))]
    public void Xsave_family_with_cr4_osxsave_clear_raises_ud(string form)
    {
        using var box = XsaveBox();
        box.Cpu.Cr4 &= ~(1UL << 18);
        box.Load(a => { EmitXsave(a, form, __[rdi]); a.hlt(); });
        AssertFault(box, GuestFault.InvalidOpcode);
    }

    [Theory]
    [MemberData(nameof(XsaveForms))]
    public void Xsave_family_with_cr0_ts_raises_nm_but_cr0_em_does_not_matter(string form)
    {
        using var box = XsaveBox();
        box.Cpu.Cr0 |= 8;
        box.Load(a => { EmitXsave(a, form, __[rdi]); a.hlt(); });
        AssertFault(box, GuestFault.DeviceNotAvailable);

        using var em = XsaveBox();
        em.Cpu.Cr0 |= 4;
        if (form == "xrstor") em.Load(a => { a.xsave(__[rdi]); a.xrstor(__[rdi]); a.hlt(); });
        else em.Load(a => { EmitXsave(a, form, __[rdi]); a.hlt(); });
        Assert.True(em.Run() == StopReason.Halted, em.Describe());
    }

    [Fact]
    public void Ud_for_osxsave_comes_before_nm_and_nm_before_the_alignment_gp()
    {
        using var box = XsaveBox();
        box.Cpu.Cr4 &= ~(1UL << 18);
        box.Cpu.Cr0 |= 8;
        box.Cpu.Gpr[Cpu.RDI] = Area + 8;
        box.Load(a => { a.xsave(__[rdi]); a.hlt(); });
        AssertFault(box, GuestFault.InvalidOpcode);

        using var box2 = XsaveBox();
        box2.Cpu.Cr0 |= 8;
        box2.Cpu.Gpr[Cpu.RDI] = Area + 8;
        box2.Load(a => { a.xsave(__[rdi]); a.hlt(); });
        AssertFault(box2, GuestFault.DeviceNotAvailable);
    }

    public static TheoryData<string, int, ulong> BadHeaders => new()
    {
        // header field (byte offset in the 64-byte header), value
        { "XSTATE_BV bit not in XCR0", 0, 0x7 },
        { "standard form, XCOMP_BV low bits", 8, 0x3 },
        { "standard form, header bytes 16-23", 16, 1 },
        { "compacted, XCOMP_BV bit not in XCR0", 8, 0x8000_0000_0000_0007 },
        { "compacted, XSTATE_BV bit not in XCOMP_BV", 8, 0x8000_0000_0000_0001 },
        { "compacted, header bytes 24-63", 40, 1 },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Xrstor_with_a_header_the_sdm_rejects_raises_gp0_and_restores_nothing(string what, int offset, ulong value)
    {
        using var box = XsaveBox();
        box.Load(a =>
        {
            a.xsave(__[rdi]);                                      // a good image with XMM0 = marker
            if (offset == 40 || value == 0x8000_0000_0000_0001) a.xsavec(__[rdi]);
            a.mov(rbx, value);
            a.mov(__qword_ptr[rdi + 512 + offset], rbx);
            a.pxor(xmm0, xmm0);
            a.xrstor(__[rdi]);
            a.hlt();
        });
        Assert.True(box.Run() == StopReason.Exception, what + ": " + box.Describe());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0UL, box.Cpu.Xmm[0].GetElement(0));           // nothing restored
    }

    [Fact]
    public void Xrstor_with_reserved_mxcsr_bits_raises_gp0()
    {
        using var box = XsaveBox();
        box.Load(a =>
        {
            a.xsave(__[rdi]);
            a.mov(__dword_ptr[rdi + 24], 0x1_1F80);
            a.xrstor(__[rdi]);
            a.hlt();
        });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0x1F80u, box.Cpu.Mxcsr);
    }

    [Fact]
    public void Xcr0_limits_what_xsave_writes_and_xrstor_loads()
    {
        using var box = XsaveBox(xcr0: 1);                         // x87 only
        box.WriteU64(Area + 512, 0x2);                             // XSTATE_BV bit 1 from before: XSAVE leaves it
        box.Load(a =>
        {
            a.xsave(__[rdi]);                                      // EDX:EAX = 3, RFBM = 1
            a.hlt();
        });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0UL, box.ReadU64(Area + 160));                // no XMM0 in the image
        Assert.Equal(0UL, box.ReadU64(Area + 24));                 // nor MXCSR
        Assert.Equal(0x037FUL, box.ReadU64(Area) & 0xFFFF);        // FCW
        Assert.Equal(0x2UL, box.ReadU64(Area + 512));              // XSTATE_BV: x87 not in use, bit 1 untouched

        using var box2 = XsaveBox(xcr0: 1);
        box2.WriteU64(Area + 160, 0x1111);                         // an image whose XMM0 would differ
        box2.WriteU64(Area + 512, 0x1);
        box2.Load(a => { a.xrstor(__[rdi]); a.hlt(); });
        Assert.True(box2.Run() == StopReason.Halted, box2.Describe());
        Assert.Equal(Marker, box2.Cpu.Xmm[0].GetElement(0));       // SSE not in RFBM: untouched
    }

    // ---- x87 ----

    [Fact]
    public void X87_state_instructions_raise_nm_under_cr0_em_or_ts_and_wait_only_under_mp_and_ts()
    {
        foreach (ulong cr0Bits in new ulong[] { 4, 8 })
        {
            foreach (Action<Assembler> use in new Action<Assembler>[] { a => a.fnstenv(__[Area]), a => a.fldenv(__[Area]), a => a.fnsave(__[Area]), a => a.frstor(__[Area]), a => a.fxsave(__[Area]) })
            {
                using var box = new GuestBox();
                box.Cpu.Cr0 |= cr0Bits;
                box.Load(a => { use(a); a.hlt(); });
                AssertFault(box, GuestFault.DeviceNotAvailable);
            }
        }
        using var ts = new GuestBox();
        ts.Cpu.Cr0 = (ts.Cpu.Cr0 | 8) & ~2UL;                      // TS without MP: WAIT runs
        ts.Load(a => { a.wait(); a.hlt(); });
        Assert.True(ts.Run() == StopReason.Halted, ts.Describe());
        using var mpts = new GuestBox();
        mpts.Cpu.Cr0 |= 8 | 2;
        mpts.Load(a => { a.wait(); a.hlt(); });
        AssertFault(mpts, GuestFault.DeviceNotAvailable);
    }

    [Fact]
    public void X87_arithmetic_the_core_lacks_raises_nm_under_cr0_em_and_ud_with_a_diagnostic_otherwise()
    {
        using var em = new GuestBox();
        em.Cpu.Cr0 |= 4;
        em.Load(a => { a.fld1(); a.hlt(); });
        AssertFault(em, GuestFault.DeviceNotAvailable);

        using var plain = new GuestBox();
        plain.Load(a => { a.fld1(); a.hlt(); });
        Assert.Equal(StopReason.Exception, plain.Run());
        Assert.Equal(GuestFault.InvalidOpcode, plain.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(1, plain.Cpu.DiagnosticsRaised);
    }

    [Fact]
    public void Waiting_forms_raise_mf_for_a_pending_unmasked_exception_the_no_wait_forms_do_not()
    {
        using var box = new GuestBox();                            // CR0.NE = 1 in long mode
        box.Cpu.FpuControl = 0x037E;                               // IE unmasked
        box.Cpu.FpuStatus = 0x8081;                                // IE, ES, B
        box.Load(a => { a.fnstenv(__[Area]); a.fldcw(__word_ptr[Area]); a.fnclex(); a.fstenv(__[Area + 64]); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe()); // FNSTENV masks everything, FNCLEX clears

        using var wait = new GuestBox();
        wait.Cpu.FpuControl = 0x037E;
        wait.Cpu.FpuStatus = 0x8081;
        wait.Load(a => { a.fstenv(__[Area]); a.hlt(); });
        AssertFault(wait, GuestFault.X87FloatingPoint);
        Assert.Equal(0UL, wait.ReadU64(Area));
    }

    [Fact]
    public void Fnsave_then_frstor_round_trips_and_fnsave_initialises()
    {
        using var box = new GuestBox();
        box.Cpu.FpuControl = 0x027F;
        box.Cpu.FpuStatus = 0x3800;                                // TOP = 7
        box.Cpu.FpuTagAbridged = 0x80;                             // R7 = ST(0) in use
        box.Cpu.FpuSignificand[7] = 0x8000_0000_0000_0000;
        box.Cpu.FpuSignExponent[7] = 0x3FFF;                       // 1.0
        box.Cpu.FpuInstructionPointer = 0x4444;
        box.Load(a => { a.fnsave(__[Area]); a.fnstcw(__word_ptr[Area + 200]); a.frstor(__[Area]); a.hlt(); });
        Assert.True(box.Run() == StopReason.Halted, box.Describe());
        Assert.Equal(0x037FUL, box.ReadU64(Area + 200) & 0xFFFF); // FCW after FNSAVE = FNINIT's
        Assert.Equal(0xFFFF_3FFFUL, box.ReadU64(Area + 8) & 0xFFFF_FFFF);   // tags: R7 valid (00), others empty (11); reserved half FFFFH
        Assert.Equal(0x8000_0000_0000_0000UL, box.ReadU64(Area + 28));      // ST(0)
        Assert.Equal(0x027F, box.Cpu.FpuControl);
        Assert.Equal(0x3800, box.Cpu.FpuStatus);
        Assert.Equal(0x80, box.Cpu.FpuTagAbridged);
        Assert.Equal(0x4444UL, box.Cpu.FpuInstructionPointer);
    }
}
