# The sealed routines: the only code in the image allowed to write CR0/CR3/CR4, execute WRMSR,
# XSETBV, LGDT, LIDT, LTR or LLDT. Each is a leaf with the SysV calling convention
# (arguments in RDI, RSI; no stack use). docs/architecture.md describes the contract.
        .intel_syntax noprefix
        .section .heki.sealed, "ax"
        .code64

        .global heki_sealed_write_cr0
heki_sealed_write_cr0:          # void (ulong value)
        mov cr0, rdi
        ret

        .global heki_sealed_write_cr3
heki_sealed_write_cr3:          # void (ulong value)
        mov cr3, rdi
        ret

        .global heki_sealed_write_cr4
heki_sealed_write_cr4:          # void (ulong value)
        mov cr4, rdi
        ret

        .global heki_sealed_wrmsr
heki_sealed_wrmsr:              # void (uint msr, ulong value)
        mov ecx, edi
        mov eax, esi
        mov rdx, rsi
        shr rdx, 32
        wrmsr
        ret

        .global heki_sealed_xsetbv
heki_sealed_xsetbv:             # void (uint xcr, ulong value)
        mov ecx, edi
        mov eax, esi
        mov rdx, rsi
        shr rdx, 32
        xsetbv
        ret

        .global heki_sealed_lgdt
heki_sealed_lgdt:               # void (DescriptorTablePointer* p)
        lgdt [rdi]
        ret

        .global heki_sealed_lidt
heki_sealed_lidt:               # void (DescriptorTablePointer* p)
        lidt [rdi]
        ret

        .global heki_sealed_ltr
heki_sealed_ltr:                # void (ushort selector)
        ltr di
        ret

        .global heki_sealed_lldt
heki_sealed_lldt:               # void (ushort selector)
        lldt di
        ret


# Addresses of the sealed routines (read by the self-test that checks they lie in the section).
        .section .rodata
        .balign 8
        .global heki_sealed_routines
heki_sealed_routines:
        .quad heki_sealed_write_cr0, heki_sealed_write_cr3, heki_sealed_write_cr4
        .quad heki_sealed_wrmsr, heki_sealed_xsetbv, heki_sealed_lgdt, heki_sealed_lidt
        .quad heki_sealed_ltr, heki_sealed_lldt, heki_entry32
        .quad 0

# The SHA-256 of the whole .heki.sealed section (its padding included), written into the linked
# image by kernel/Platform/seal-digest.sh: what VTL1 compares with its own hash at the hand-over.
        .balign 16
        .global heki_sealed_digest
heki_sealed_digest:
        .skip 32
