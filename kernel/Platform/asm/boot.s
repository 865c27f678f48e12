# The platform boot stub of every HekiGuest guest image: one 32-bit entry point reached two ways.
#  - GRUB (multiboot2): EAX = 0x36D76289, EBX = physical address of the multiboot2 info.
#  - QEMU -kernel / any PVH loader: EBX = physical address of the hvm_start_info.
# Both arrive in 32-bit protected mode with paging off. The code that switches to long mode
# writes CR0/CR3/CR4, EFER (WRMSR) and the GDTR, so it lives in the sealed section.
        .intel_syntax noprefix

# Sizes a guest build may override (as --defsym HEKI_STACK_SIZE=..., mk/guest.mk GUEST_STACK_SIZE
# and GUEST_HEAP_SIZE): the boot stack and the early heap handed to heki_runtime_init.
        .ifndef HEKI_STACK_SIZE
        .set HEKI_STACK_SIZE, 65536
        .endif
        .ifndef HEKI_HEAP_SIZE
        .set HEKI_HEAP_SIZE, 4 * 1024 * 1024
        .endif
        .if (HEKI_STACK_SIZE % 4096) || (HEKI_HEAP_SIZE % 4096) || HEKI_STACK_SIZE < 16384
        .error "HEKI_STACK_SIZE and HEKI_HEAP_SIZE must be multiples of 4096; the stack at least 16384"
        .endif

        .set MB2_MAGIC,        0xE85250D6
        .set MB2_ARCH_I386,    0
        .set COM1,             0x3F8
        .set DEBUG_EXIT_PORT,  0xF4

# ---- multiboot2 header: first in the image, 8-byte aligned ---------------------------------
        .section .multiboot2, "a"
        .balign 8
mb2_header:
        .long MB2_MAGIC
        .long MB2_ARCH_I386
        .long mb2_header_end - mb2_header
        .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
        # information request tag: command line, modules, basic memory, memory map
        .balign 8
        .short 1, 0
        .long 8 + 4 * 4
        .long 1, 3, 4, 6
        # end tag
        .balign 8
        .short 0, 0
        .long 8
mb2_header_end:

# ---- PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY = 18) ------------------------------------------
        .section .note.pvh, "a", @note
        .balign 4
        .long 4
        .long 4
        .long 18
        .asciz "Xen"
        .balign 4
        .long heki_entry32

# ---- data the boot path fills ---------------------------------------------------------------
        .section .data
        .balign 8
        .global heki_boot_magic, heki_boot_info, __security_cookie, RhpTrapThreads
heki_boot_magic:   .long 0
heki_boot_info:    .long 0
__security_cookie: .quad 0x2B992DDFA23249D6
RhpTrapThreads:    .long 0
        .balign 8
gdt64:
        .quad 0                           # null
        .quad 0x00AF9A000000FFFF          # 0x08: 64-bit code, DPL0
        .quad 0x00CF92000000FFFF          # 0x10: data, DPL0
gdt64_end:
gdt64_ptr:
        .short gdt64_end - gdt64 - 1
        .quad gdt64

# ---- boot page tables, stack and early heap ------------------------------------------------
        .section .bss.boot, "aw", @nobits
        .balign 4096
        .global heki_boot_pml4
heki_boot_pml4:  .skip 4096
boot_pdpt:       .skip 4096
boot_pd:         .skip 4096 * 4         # identity map of the first 4 GiB
        .global heki_boot_pt0
heki_boot_pt0:
boot_pt0:        .skip 4096             # first 2 MiB in 4 KiB pages
        .global heki_boot_stack_guard, heki_boot_stack_bottom, heki_boot_stack_top
heki_boot_stack_guard:  .skip 4096      # unmapped by the kernel's own page tables
heki_boot_stack_bottom: .skip HEKI_STACK_SIZE
heki_boot_stack_top:
# The early heap is not zeroed at boot (4 MiB of rep stosb is the slowest part of a boot under
# emulation): the allocator zeroes every allocation itself.
        .section .heki_heap, "aw", @nobits
        .balign 4096
        .global heki_early_heap, heki_early_heap_end
heki_early_heap: .skip HEKI_HEAP_SIZE
heki_early_heap_end:

# ---- the 32-bit entry and the switch to long mode (sealed) ---------------------------------
        .section .heki.sealed, "ax"
        .code32
        .global heki_entry32, __heki_code32_start_boot, __heki_code32_end_boot
__heki_code32_start_boot:
heki_entry32:
        cli
        cld
        mov [heki_boot_magic], eax
        mov [heki_boot_info], ebx
        # Zero .bss (a loader need not): page tables and stack live there.
        mov edi, offset __bss_start
        mov ecx, offset __bss_end
        sub ecx, edi
        xor eax, eax
        rep stosb
        mov esp, offset heki_boot_stack_top

        # Long mode is required; NX is used when present.
        mov eax, 0x80000000
        cpuid
        cmp eax, 0x80000001
        jb no_long_mode
        mov eax, 0x80000001
        cpuid
        test edx, 1 << 29
        jz no_long_mode
        mov esi, edx

        # PML4[0] -> PDPT; PDPT[0..3] -> PD[0..3]
        mov eax, offset boot_pdpt
        or eax, 3
        mov [heki_boot_pml4], eax
        mov edi, offset boot_pdpt
        mov eax, offset boot_pd
        or eax, 3
        mov ecx, 4
1:      mov [edi], eax
        add eax, 4096
        add edi, 8
        loop 1b
        # PD entries: 2 MiB pages for 2 MiB .. 4 GiB
        mov edi, offset boot_pd + 8
        mov eax, 0x200000 | 0x83
        xor edx, edx
        mov ecx, 2047
2:      mov [edi], eax
        mov [edi + 4], edx
        add eax, 0x200000
        adc edx, 0
        add edi, 8
        loop 2b
        # PD[0] -> PT0 with 4 KiB pages. Page 0 is mapped for now: a PVH loader may place the
        # start info there; the kernel unmaps it (null pointer guard) once that is copied.
        mov eax, offset boot_pt0
        or eax, 3
        mov [boot_pd], eax
        mov edi, offset boot_pt0
        mov eax, 3
        mov ecx, 512
3:      mov [edi], eax
        add eax, 0x1000
        add edi, 8
        loop 3b

        mov eax, cr4
        or eax, 1 << 5                   # PAE
        mov cr4, eax
        mov eax, offset heki_boot_pml4
        mov cr3, eax
        mov ecx, 0xC0000080              # EFER
        rdmsr
        or eax, 1 << 8                   # LME
        test esi, 1 << 20
        jz 4f
        or eax, 1 << 11                  # NXE
4:      wrmsr
        mov eax, cr0
        # PG | WP | PE: WP from the first paging instruction (the boot tables are all writable,
        # so it costs nothing) lets host userspace pre-pin CR0.WP before the kernel runs.
        or eax, (1 << 31) | (1 << 16) | (1 << 0)
        mov cr0, eax
        lgdt [gdt64_ptr]
        # far jump to 64-bit code: EA imm32 imm16
        .byte 0xEA
        .long heki_entry64
        .short 0x08

no_long_mode:
        mov esi, offset msg_no_long_mode
5:      mov al, [esi]
        test al, al
        jz 6f
        mov dx, COM1
        out dx, al
        inc esi
        jmp 5b
6:      mov al, 2
        out DEBUG_EXIT_PORT, al
7:      hlt
        jmp 7b
__heki_code32_end_boot:

        .code64
heki_entry64:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        xor eax, eax
        mov fs, ax
        mov gs, ax
        mov rsp, offset heki_boot_stack_top
        # SSE before the first compiled instruction: CR0.EM=0, MP=1, NE=1; CR4.OSFXSR|OSXMMEXCPT
        mov rax, cr0
        and rax, ~(1 << 2)
        or rax, (1 << 1) | (1 << 5)
        mov cr0, rax
        mov rax, cr4
        or rax, (1 << 9) | (1 << 10)
        mov cr4, rax
        fninit
        jmp heki_boot64

        .section .rodata
msg_no_long_mode:
        .asciz "PANIC: boot: this CPU has no long mode (x86-64 required)\n"

# ---- 64-bit boot continues outside the sealed section ----------------------------------------
        .section .text
        .code64
heki_boot64:
        # Seed the stack-protector cookie before the first managed frame; never change it again.
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov rcx, 0x9E3779B97F4A7C15
        imul rax, rcx
        xor [__security_cookie], rax
        lea rdi, [__modules_start]
        lea rsi, [__modules_end]
        lea rdx, [heki_early_heap]
        mov rcx, offset heki_early_heap_end
        sub rcx, rdx
        call heki_runtime_init
        mov edi, [heki_boot_magic]
        mov esi, [heki_boot_info]
        # The guest's entry: void (uint magic, uint info), an [UnmanagedCallersOnly] export.
        # heki_guest_entry is an alias the link step defines (ld --defsym, mk/guest.mk GUEST_ENTRY).
        call heki_guest_entry
        # The entry never returns; if it does, report failure through the debug-exit port.
        mov al, 2
        out DEBUG_EXIT_PORT, al
8:      cli
        hlt
        jmp 8b

# ---- IST stacks, each above a guard page the kernel's page tables leave unmapped -------------
        .section .bss.boot, "aw", @nobits
        .balign 4096
        .global heki_ist_stacks
heki_ist_stacks:
        .skip (4096 + 16384) * 3
