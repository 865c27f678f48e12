# Hyper-V hypercalls and the VTL call client, shared by the kernel (VTL0) and vtl1-monitor (VTL1).
# VMCALL is issued directly with the call code in RCX: the host sees exactly what the hypercall
# page's sequences produce (docs/vtl.md sections 3 and 15), and the monitor never executes the
# hypercall page, which VTL0 can move or rewrite.
        .intel_syntax noprefix
        .section .text

# ulong heki_hv_hypercall(ulong input, ulong inputGpa, ulong outputGpa): the 64-bit memory form
# (RCX input value, RDX input GPA, R8 output GPA); returns the result value (RAX).
        .global heki_hv_hypercall
        .balign 16
heki_hv_hypercall:
        mov rcx, rdi
        mov r8, rdx
        mov rdx, rsi
        vmcall
        ret

# long heki_vtl_call(ulong id, ulong a0, ulong a1, ulong a2, ulong* results): one call to the
# VTL1 monitor. ABI: RDI id, RSI a0, RDX a1, R8 a2 (RAX = id and RBX = a0 too: the monitor's boot
# stub reads EAX/EBX on the first call); back: RAX status, RDX value, R8 value 2 (stored in
# results[0..1] when results is not null). Every other general register may hold anything after
# a VTL switch, so the callee-saved ones are kept on VTL0's (private) stack.
        .global heki_vtl_call
        .balign 16
heki_vtl_call:
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        push r8
        mov rax, rdi
        mov rbx, rsi
        mov r8, rcx
        mov ecx, 0x11                   # HvCallVtlCall
        vmcall
        pop r9
        test r9, r9
        jz 1f
        mov [r9], rdx
        mov [r9 + 8], r8
1:      pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        ret
