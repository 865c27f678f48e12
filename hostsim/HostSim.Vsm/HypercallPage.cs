using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The code the host writes into the guest page named by the HYPERCALL MSR (docs/vtl.md section
/// 3). Three 64-bit sequences at the offsets <see cref="HvHypercallPage"/> publishes; every other
/// byte is INT3, so a CALL to a wrong offset traps instead of sliding into a sequence.
/// <list type="bullet">
/// <item>Hypercall (offset 0): VMCALL; RET. The caller's registers carry the TLFS input.</item>
/// <item>VTL call / VTL return: MOV RAX, RCX; MOV ECX, code; VMCALL; RET. The caller's control
/// value (RCX) moves to RAX and RCX becomes the call code, so RAX and RCX do not survive the
/// sequence: that is why the VP assist page's VTL control area carries the RAX and RCX a VTL
/// return restores.</item>
/// </list>
/// </summary>
public static class HypercallPage
{
    public const int Size = 4096;
    public const byte Int3 = 0xCC;

    private static readonly byte[] HypercallSequence = [0x0F, 0x01, 0xC1, 0xC3];

    public static byte[] VtlSequence(ushort code) =>
    [
        0x48, 0x89, 0xC8,                                       // mov rax, rcx
        0xB9, (byte)code, (byte)(code >> 8), 0x00, 0x00,        // mov ecx, code
        0x0F, 0x01, 0xC1,                                       // vmcall
        0xC3,                                                   // ret
    ];

    /// <summary>Fills <paramref name="page"/> (exactly one page) with the hypercall page image.</summary>
    public static void Fill(Span<byte> page)
    {
        if (page.Length != Size) throw new ArgumentException("the hypercall page is one 4 KiB page", nameof(page));
        page.Fill(Int3);
        HypercallSequence.CopyTo(page[(int)HvHypercallPage.HypercallOffset..]);
        VtlSequence(HvCall.VtlCall).CopyTo(page[(int)HvHypercallPage.VtlCallOffset..]);
        VtlSequence(HvCall.VtlReturn).CopyTo(page[(int)HvHypercallPage.VtlReturnOffset..]);
    }
}
