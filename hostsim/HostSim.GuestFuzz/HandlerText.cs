using HekiGuest.Abi;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// The fuzz guest's "kernel text" (identical for every seed, assembled once): 256 exception stubs
/// of 16 bytes (<c>push vector; jmp common</c>), the recovery handler, the SYSCALL entry and the
/// boot stub. Every IDT gate uses IST1, so a fault finds a good stack whatever RSP the random code
/// left. The handler saves RAX/RCX/RDX, counts the vector in kernel data, draws a fresh offset in
/// the code area from a guest-side LCG (deterministic), builds an IRETQ frame from the entry
/// descriptor in rodata (code and stack selectors, RSP, RFLAGS), reloads DS/ES/FS/GS, restores the
/// three registers and returns to the random code. The boot stub enables EFER.NXE/SCE, sets up
/// SYSCALL, sets CR0.WP and CR4.SMEP/SMAP/UMIP, pins them (pinning MSRs, or LOCK_CR when the
/// rodata flag says so), protects memory with PROTECT_MEMORY and halts.
/// </summary>
public static class HandlerText
{
    public const ulong PinWithHypercall = GuestLayout.EntryDescriptor + 0x38;
    public const ulong LockCr0Result = GuestLayout.BootResult + 8, LockCr4Result = GuestLayout.BootResult + 16;
    public const ulong SyscallVector = 0xFF;
    public const ulong LcgMultiplier = 0x5851_F42D_4C95_7F2D, LcgIncrement = 0x1405_7B7E_F767_814F;

    private static readonly Lazy<Image> Built = new(Build);

    public static byte[] Bytes => Built.Value.Bytes;
    public static ulong Common => Built.Value.Common;
    public static ulong Restart => Built.Value.Restart;
    public static ulong SyscallEntry => Built.Value.SyscallEntry;
    public static ulong Boot => Built.Value.Boot;
    public static ulong BootEnd => Built.Value.BootEnd;

    public static ulong Stub(int vector) => GuestLayout.Text + (ulong)vector * 16;

    private sealed record Image(byte[] Bytes, ulong Common, ulong Restart, ulong SyscallEntry, ulong Boot, ulong BootEnd);

    private static Image Build()
    {
        var a = new Assembler(64);
        var common = a.CreateLabel();
        var restart = a.CreateLabel();
        var syscallEntry = a.CreateLabel();
        var boot = a.CreateLabel();
        var bootEnd = a.CreateLabel();
        var lockCr = a.CreateLabel();
        var protect = a.CreateLabel();

        a.Label(ref common);
        a.mov(__qword_ptr[(long)GuestLayout.SavedRax], rax);
        a.mov(__qword_ptr[(long)GuestLayout.SavedRcx], rcx);
        a.mov(__qword_ptr[(long)GuestLayout.SavedRdx], rdx);
        a.mov(rax, __qword_ptr[rsp]);
        a.movzx(eax, al);
        a.inc(__qword_ptr[rax * 8 + (long)GuestLayout.VectorCounts]);
        a.inc(__qword_ptr[(long)GuestLayout.HandlerCount]);
        a.Label(ref restart);
        a.mov(rax, __qword_ptr[(long)GuestLayout.LcgState]);
        a.mov(rcx, LcgMultiplier);
        a.imul(rax, rcx);
        a.mov(rcx, LcgIncrement);
        a.add(rax, rcx);
        a.mov(__qword_ptr[(long)GuestLayout.LcgState], rax);
        a.shr(rax, 33);
        a.and(rax, __qword_ptr[(long)GuestLayout.EntryMask]);
        a.add(rax, __qword_ptr[(long)GuestLayout.EntryRipBase]);
        a.mov(rsp, GuestLayout.Ist1Top);
        a.push(__qword_ptr[(long)GuestLayout.EntrySs]);
        a.push(__qword_ptr[(long)GuestLayout.EntryRsp]);
        a.push(__qword_ptr[(long)GuestLayout.EntryRflags]);
        a.push(__qword_ptr[(long)GuestLayout.EntryCs]);
        a.push(rax);
        a.mov(eax, __dword_ptr[(long)GuestLayout.EntryDs]);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(rax, __qword_ptr[(long)GuestLayout.SavedRax]);
        a.mov(rcx, __qword_ptr[(long)GuestLayout.SavedRcx]);
        a.mov(rdx, __qword_ptr[(long)GuestLayout.SavedRdx]);
        a.iretq();

        a.Label(ref syscallEntry);
        a.mov(rsp, GuestLayout.Ist1Top);
        a.push((int)SyscallVector);
        a.jmp(common);

        a.Label(ref boot);
        a.mov(ecx, 0xC000_0080u);                     // EFER: NXE | SCE
        a.rdmsr();
        a.or(eax, 0x801);
        a.wrmsr();
        a.mov(ecx, 0xC000_0081u);                     // STAR: SYSCALL CS 0x08, SYSRET base 0x20 (CS 0x33, SS 0x2B)
        a.xor(eax, eax);
        a.mov(edx, 0x0020_0008);
        a.wrmsr();
        a.mov(ecx, 0xC000_0082u);                     // LSTAR and CSTAR: the SYSCALL entry
        a.lea(rax, __[syscallEntry]);
        a.xor(edx, edx);
        a.wrmsr();
        a.mov(ecx, 0xC000_0083u);
        a.wrmsr();
        a.mov(ecx, 0xC000_0084u);                     // SFMASK: TF, IF, DF, AC
        a.mov(eax, 0x4_7700);
        a.wrmsr();
        a.mov(rax, cr0);
        a.or(eax, (int)HekiCrBits.Cr0Wp);
        a.mov(cr0, rax);
        a.mov(rax, cr4);
        a.or(eax, (int)HekiCrBits.Cr4Allowed);
        a.mov(cr4, rax);
        a.cmp(__byte_ptr[(long)PinWithHypercall], 0);
        a.jne(lockCr);
        a.mov(ecx, HekiMsr.DefaultBase + HekiMsr.Cr0PinnedHigh);
        a.mov(eax, (int)HekiCrBits.Cr0Wp);
        a.xor(edx, edx);
        a.wrmsr();
        a.mov(ecx, HekiMsr.DefaultBase + HekiMsr.Cr4PinnedHigh);
        a.mov(eax, (int)HekiCrBits.Cr4Allowed);
        a.wrmsr();
        a.jmp(protect);
        a.Label(ref lockCr);
        a.mov(eax, HekiHypercall.DefaultBase + HekiHypercall.LockCr);
        a.xor(ebx, ebx);
        a.mov(ecx, (int)HekiCrBits.Cr0Wp);
        a.xor(edx, edx);
        a.vmcall();
        a.mov(__qword_ptr[(long)LockCr0Result], rax);
        a.mov(eax, HekiHypercall.DefaultBase + HekiHypercall.LockCr);
        a.mov(ebx, 4);
        a.mov(ecx, (int)HekiCrBits.Cr4Allowed);
        a.vmcall();
        a.mov(__qword_ptr[(long)LockCr4Result], rax);
        a.Label(ref protect);
        a.mov(eax, HekiHypercall.DefaultBase + HekiHypercall.ProtectMemory);
        a.mov(ebx, (int)GuestLayout.RangeArray);
        a.mov(ecx, ProtectionPlan.Ranges.Length);
        a.xor(edx, edx);
        a.vmcall();
        a.mov(__qword_ptr[(long)GuestLayout.BootResult], rax);
        a.hlt();
        a.Label(ref bootEnd);
        a.nop();

        using var stream = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(stream), GuestLayout.StubsEnd, BlockEncoderOptions.ReturnNewInstructionOffsets);
        var body = stream.ToArray();
        ulong Address(Label l) => result.GetLabelRIP(l);

        var bytes = new byte[GuestLayout.TextPages * 4096];
        bytes.AsSpan().Fill(0xCC);
        ulong commonAt = Address(common);
        for (int v = 0; v < 256; v++)
        {
            int at = v * 16;
            bytes[at] = 0x68;                                              // push imm32
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 1, 4), v);
            bytes[at + 5] = 0xE9;                                          // jmp rel32
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 6, 4), (int)((long)commonAt - (long)(Stub(v) + 10)));
        }
        if (body.Length > bytes.Length - (int)(GuestLayout.StubsEnd - GuestLayout.Text))
            throw new InvalidOperationException("the handler text does not fit its pages");
        body.CopyTo(bytes, (int)(GuestLayout.StubsEnd - GuestLayout.Text));
        return new Image(bytes, commonAt, Address(restart), Address(syscallEntry), Address(boot), Address(bootEnd));
    }
}
