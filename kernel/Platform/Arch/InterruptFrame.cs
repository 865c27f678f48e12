using System.Runtime.InteropServices;

namespace HekiGuest.Platform.Arch;

// The register frame isr_common builds (arch/x86_64/runtime.s), lowest address first.
[StructLayout(LayoutKind.Sequential)]
public struct InterruptFrame
{
    public ulong R15, R14, R13, R12, R11, R10, R9, R8, Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
    public ulong Vector, ErrorCode;
    public ulong Rip, Cs, Rflags, Rsp, Ss;
}
