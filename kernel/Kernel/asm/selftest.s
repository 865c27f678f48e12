# Data only the kernel's self-tests use (the platform layer's asm is in kernel/Platform/asm).
        .intel_syntax noprefix
# A read-only qword that looks like a present page-table entry (frame 2 MiB, R/W, accessed bit
# clear). The heki self-tests point a page-directory entry at its (IMMUTABLE, read-only) page and
# touch memory through it: the CPU's page walk then needs to set the accessed bit here, which the
# host must refuse (docs/abi.md section 4).
        .section .rodata
        .balign 8
        .global heki_walk_bait
heki_walk_bait:
        .quad 0x0000000000200003

        .section .text
        .global heki_sym_walk_bait
heki_sym_walk_bait:
        lea rax, [heki_walk_bait]
        ret
