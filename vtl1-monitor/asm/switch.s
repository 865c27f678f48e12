# The monitor's half of a VTL switch. VTL0 and VTL1 share RAX-R15 and the FPU/SSE state
# (docs/vtl.md section 7), so VTL0's registers are saved in heki_monitor_frame the moment VTL1
# is entered and put back, with the results the dispatcher wrote there, before each VTL return:
# VTL0 never sees a value of VTL1's own, and an intercepted VTL0 instruction resumes with its
# registers intact. The VTL return is a direct VMCALL (RCX = 0x12, RAX = control 0: RAX and RCX
# come back from the VP assist page's VTL control area), never the VTL0-writable hypercall page.
        .intel_syntax noprefix

# Frame: 16 general registers at 8 * n (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15; RSP unused),
# then a 512-byte FXSAVE area at 256.
        .section .bss
        .balign 64
        .global heki_monitor_frame
heki_monitor_frame: .skip 256 + 512
        .balign 8
monitor_assist:     .skip 8

        .section .rodata
        .balign 4
mxcsr_default:      .long 0x1F80

        .section .text
        .global heki_monitor_frame_address, heki_monitor_set_assist, heki_monitor_frame_capture, heki_monitor_switch

# ulong heki_monitor_frame_address(void)
        .balign 16
heki_monitor_frame_address:
        lea rax, [rip + heki_monitor_frame]
        ret

# void heki_monitor_set_assist(ulong vpAssistPage)
        .balign 16
heki_monitor_set_assist:
        mov [rip + monitor_assist], rdi
        ret

# void heki_monitor_frame_capture(void): the current FPU/SSE state becomes the frame's (init).
        .balign 16
heki_monitor_frame_capture:
        lea rax, [rip + heki_monitor_frame]
        fxsave64 [rax + 256]
        ret

# void heki_monitor_switch(void): VTL return with the frame's registers; returns at the next
# VTL1 entry (VTL call or intercept) with VTL0's registers in the frame.
        .balign 16
heki_monitor_switch:
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        lea rax, [rip + heki_monitor_frame]
        fxrstor64 [rax + 256]
        mov rcx, [rip + monitor_assist]
        mov rdx, [rax + 0]
        mov [rcx + 16], rdx             # VTL0's RAX after the return
        mov rdx, [rax + 8]
        mov [rcx + 24], rdx             # VTL0's RCX
        mov rdx, [rax + 16]
        mov rbx, [rax + 24]
        mov rbp, [rax + 40]
        mov rsi, [rax + 48]
        mov rdi, [rax + 56]
        mov r8,  [rax + 64]
        mov r9,  [rax + 72]
        mov r10, [rax + 80]
        mov r11, [rax + 88]
        mov r12, [rax + 96]
        mov r13, [rax + 104]
        mov r14, [rax + 112]
        mov r15, [rax + 120]
        xor eax, eax                    # control: not fast
        mov ecx, 0x12                   # HvCallVtlReturn
        vmcall
        # VTL1 again: every general register is VTL0's.
        push rax
        lea rax, [rip + heki_monitor_frame]
        mov [rax + 8], rcx
        mov [rax + 16], rdx
        mov [rax + 24], rbx
        mov [rax + 40], rbp
        mov [rax + 48], rsi
        mov [rax + 56], rdi
        mov [rax + 64], r8
        mov [rax + 72], r9
        mov [rax + 80], r10
        mov [rax + 88], r11
        mov [rax + 96], r12
        mov [rax + 104], r13
        mov [rax + 112], r14
        mov [rax + 120], r15
        pop rcx
        mov [rax + 0], rcx
        fxsave64 [rax + 256]
        # VTL0 chose the FPU/SSE control state: the monitor's own code runs with the defaults.
        fninit
        ldmxcsr [rip + mxcsr_default]
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        ret
