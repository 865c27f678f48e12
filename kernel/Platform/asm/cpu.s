# Unprivileged CPU helpers every guest image may call (C# through RuntimeImport, C directly; SysV
# calling convention): port I/O, CR and MSR reads, CPUID, the exception entry stubs (which call
# the guest's heki_exception_dispatch), the fault-probe trampoline, linker-symbol accessors,
# segment reload and VMCALL. docs/sdk.md lists each with its signature.
        .intel_syntax noprefix
        .section .text
        .code64

# -- port I/O ------------------------------------------------------------------------------------
        .global heki_outb, heki_inb, heki_outl, heki_inl, heki_outw, heki_inw
heki_outb:                      # void (ushort port, byte value)
        mov edx, edi
        mov eax, esi
        out dx, al
        ret
heki_inb:                       # byte (ushort port)
        mov edx, edi
        xor eax, eax
        in al, dx
        ret
heki_outw:
        mov edx, edi
        mov eax, esi
        out dx, ax
        ret
heki_inw:
        mov edx, edi
        xor eax, eax
        in ax, dx
        ret
heki_outl:
        mov edx, edi
        mov eax, esi
        out dx, eax
        ret
heki_inl:
        mov edx, edi
        in eax, dx
        ret

# -- reads of control state (reading changes nothing, so these are not sealed) -----------------
        .global heki_read_cr0, heki_read_cr2, heki_read_cr3, heki_read_cr4, heki_rdmsr
        .global heki_cpuid, heki_rdtsc, heki_hlt, heki_cli, heki_sti, heki_pause, heki_read_rflags
        .global heki_sgdt, heki_sidt, heki_str, heki_read_rsp, heki_read_rbp, heki_invlpg
heki_read_cr0:
        mov rax, cr0
        ret
heki_read_cr2:
        mov rax, cr2
        ret
heki_read_cr3:
        mov rax, cr3
        ret
heki_read_cr4:
        mov rax, cr4
        ret
heki_rdmsr:                     # ulong (uint msr)
        mov ecx, edi
        rdmsr
        shl rdx, 32
        or rax, rdx
        ret
heki_cpuid:                     # void (uint leaf, uint subleaf, uint* out4)
        push rbx
        mov eax, edi
        mov ecx, esi
        mov r8, rdx
        cpuid
        mov [r8], eax
        mov [r8 + 4], ebx
        mov [r8 + 8], ecx
        mov [r8 + 12], edx
        pop rbx
        ret
heki_rdtsc:
        rdtsc
        shl rdx, 32
        or rax, rdx
        ret
heki_hlt:
        hlt
        ret
heki_cli:
        cli
        ret
heki_sti:
        sti
        ret
# Aligned: the self-tests call it through a C# function pointer, and ilc treats a function
# pointer with bit 1 set as a "fat" pointer (a generic-dictionary pair) and dereferences it.
# Any routine a guest calls through a C# function pointer must be 4-byte aligned (docs/sdk.md).
        .balign 16
heki_pause:
        pause
        ret
heki_read_rflags:
        pushfq
        pop rax
        ret
heki_sgdt:                      # void (DescriptorTablePointer* p)
        sgdt [rdi]
        ret
heki_sidt:
        sidt [rdi]
        ret
heki_str:
        xor eax, eax
        str ax
        ret
heki_read_rsp:
        lea rax, [rsp + 8]
        ret
heki_read_rbp:
        mov rax, rbp
        ret
heki_invlpg:
        invlpg [rdi]
        ret

# -- exception entry: one stub per vector, then a common path ----------------------------------
# Frame handed to heki_exception_dispatch (RDI), lowest address first:
#   r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax vector error rip cs rflags rsp ss
# The dispatcher may change rip/rsp/rax in the frame to resume elsewhere.
        .macro ISR_NOERR n
        .balign 16
isr_\n:
        push 0
        push \n
        jmp isr_common
        .endm
        .macro ISR_ERR n
        .balign 16
isr_\n:
        push \n
        jmp isr_common
        .endm

        ISR_NOERR 0
        ISR_NOERR 1
        ISR_NOERR 2
        ISR_NOERR 3
        ISR_NOERR 4
        ISR_NOERR 5
        ISR_NOERR 6
        ISR_NOERR 7
        ISR_ERR   8
        ISR_NOERR 9
        ISR_ERR   10
        ISR_ERR   11
        ISR_ERR   12
        ISR_ERR   13
        ISR_ERR   14
        ISR_NOERR 15
        ISR_NOERR 16
        ISR_ERR   17
        ISR_NOERR 18
        ISR_NOERR 19
        ISR_NOERR 20
        ISR_ERR   21
        ISR_NOERR 22
        ISR_NOERR 23
        ISR_NOERR 24
        ISR_NOERR 25
        ISR_NOERR 26
        ISR_NOERR 27
        ISR_NOERR 28
        ISR_ERR   29
        ISR_ERR   30
        ISR_NOERR 31

isr_common:
        cld
        push rax
        push rbx
        push rcx
        push rdx
        push rsi
        push rdi
        push rbp
        push r8
        push r9
        push r10
        push r11
        push r12
        push r13
        push r14
        push r15
        mov r12, rsp
        sub rsp, 512
        and rsp, -16
        fxsave [rsp]
        mov rdi, r12
        call heki_exception_dispatch
        fxrstor [rsp]
        mov rsp, r12
        pop r15
        pop r14
        pop r13
        pop r12
        pop r11
        pop r10
        pop r9
        pop r8
        pop rbp
        pop rdi
        pop rsi
        pop rdx
        pop rcx
        pop rbx
        pop rax
        add rsp, 16
        iretq

        .section .rodata
        .balign 8
        .global heki_isr_table
heki_isr_table:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad isr_\n
        .endr

# -- linker symbol accessors ------------------------------------------------------------------------
        .section .text
        .macro SYM name, sym
        .global heki_sym_\name
heki_sym_\name:
        lea rax, [\sym]
        ret
        .endm
        SYM image_start, __image_start
        SYM image_end, __image_end
        SYM text_start, __text_start
        SYM text_end, __text_end
        SYM sealed_start, __heki_sealed_start
        SYM sealed_end, __heki_sealed_end
        SYM rodata_start, __rodata_start
        SYM rodata_end, __rodata_end
        SYM data_start, __data_start
        SYM data_end, __data_end
        SYM isr_table, heki_isr_table
        SYM stack_bottom, heki_boot_stack_bottom
        SYM stack_top, heki_boot_stack_top
        SYM boot_pt0, heki_boot_pt0
        SYM ist_stacks, heki_ist_stacks
        SYM stack_guard, heki_boot_stack_guard
        SYM symtab, heki_symtab
        SYM sealed_routines, heki_sealed_routines
        SYM sealed_digest, heki_sealed_digest
        SYM pause, heki_pause

# -- fault probes ----------------------------------------------------------------------------------
# int heki_probe_run(void (*fn)(void), ProbeContext* ctx)
# Calls fn. Returns 0 if it returned normally, 1 if a fault handler resumed execution at the
# recovery point (ctx->ResumeRip with RSP = ctx->SavedRsp). Callee-saved registers are restored
# from this frame either way, so the faulting code's partial state does not leak.
        .section .text
        .global heki_probe_run
heki_probe_run:
        push rbp
        push rbx
        push r12
        push r13
        push r14
        push r15
        mov [rsi], rsp
        lea rax, [rip + probe_resume]
        mov [rsi + 8], rax
        sub rsp, 8
        call rdi
        add rsp, 8
        xor eax, eax
        jmp probe_out
probe_resume:
        mov eax, 1
probe_out:
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbx
        pop rbp
        ret

# -- segment reload after a new GDT: far return to the new code selector -----------------------
        .global heki_reload_segments
heki_reload_segments:           # void (ushort code, ushort data)
        mov ax, si
        mov ds, ax
        mov es, ax
        mov ss, ax
        xor eax, eax
        mov fs, ax
        mov gs, ax
        pop rax                 # return address
        push rdi
        push rax
        retfq

        .global heki_sldt, heki_xgetbv, heki_stac, heki_clac, heki_int3, heki_ud2, heki_read_dr7
heki_sldt:
        xor eax, eax
        sldt ax
        ret
heki_xgetbv:                    # ulong (uint xcr)
        mov ecx, edi
        xgetbv
        shl rdx, 32
        or rax, rdx
        ret
heki_stac:
        stac
        ret
heki_clac:
        clac
        ret
heki_int3:
        int3
        ret
heki_ud2:
        ud2
        ret
heki_read_dr7:
        mov rax, dr7
        ret

# -- hypercall: long (ulong nr, ulong a0, ulong a1, ulong a2, ulong a3) -----------------------------
# RAX = nr, RBX = a0, RCX = a1, RDX = a2, RSI = a3 (KVM's convention); result in RAX. Not sealed:
# a hypercall can only add restrictions, never relax them.
        .section .text
        .global heki_vmcall
heki_vmcall:
        push rbx
        mov rax, rdi
        mov rbx, rsi
        mov r9, rdx
        mov r10, rcx
        mov rcx, r9
        mov rdx, r10
        mov rsi, r8
        vmcall
        pop rbx
        ret
