# The C# runtime glue the compiled code calls by symbol (C# guests only): write barriers (no GC,
# so plain stores with the special register conventions) and the interface-dispatch stub.
        .intel_syntax noprefix
        .section .text
        .code64

# -- write barriers: RDI = destination, RSI = reference ------------------------------------------
        .global RhpAssignRef, RhpCheckedAssignRef, RhpByRefAssignRef
RhpAssignRef:
RhpCheckedAssignRef:
        mov [rdi], rsi
        ret
# RDI = destination, RSI = source; copies one reference and advances both. Trashes RCX.
RhpByRefAssignRef:
        mov rcx, [rsi]
        mov [rdi], rcx
        add rdi, 8
        add rsi, 8
        ret

# -- interface dispatch: RDI = this, R11 = dispatch cell -----------------------------------------
        .global RhpInitialDynamicInterfaceDispatch, RhpInitialInterfaceDispatch
RhpInitialDynamicInterfaceDispatch:
RhpInitialInterfaceDispatch:
        push rdi
        push rsi
        push rdx
        push rcx
        push r8
        push r9
        sub rsp, 8 * 16 + 8
        movdqu [rsp + 0x00], xmm0
        movdqu [rsp + 0x10], xmm1
        movdqu [rsp + 0x20], xmm2
        movdqu [rsp + 0x30], xmm3
        movdqu [rsp + 0x40], xmm4
        movdqu [rsp + 0x50], xmm5
        movdqu [rsp + 0x60], xmm6
        movdqu [rsp + 0x70], xmm7
        mov rsi, r11
        call heki_resolve_interface_call
        movdqu xmm0, [rsp + 0x00]
        movdqu xmm1, [rsp + 0x10]
        movdqu xmm2, [rsp + 0x20]
        movdqu xmm3, [rsp + 0x30]
        movdqu xmm4, [rsp + 0x40]
        movdqu xmm5, [rsp + 0x50]
        movdqu xmm6, [rsp + 0x60]
        movdqu xmm7, [rsp + 0x70]
        add rsp, 8 * 16 + 8
        pop r9
        pop r8
        pop rcx
        pop rdx
        pop rsi
        pop rdi
        jmp rax

