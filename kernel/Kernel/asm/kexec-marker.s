# The kernel's kexec-marker claim (kernel/Platform/asm/note.s, docs/vtl.md section 16): it pins
# CR bits and starts its VTL1 monitor right after its own page tables, before any self-test or
# other code runs (KernelMain: KernelHardening.Apply, then MonitorBoot.Start), so it claims
# FlagRearmsCrPins | FlagStartsVtl1. And the addresses of its own note, for the boot check.
        .intel_syntax noprefix
        .global heki_kexec_marker_flags
        .set heki_kexec_marker_flags, 0x3
        .section .text
        .global heki_sym_kexec_note, heki_sym_kexec_note_end
        .balign 16
heki_sym_kexec_note:
        lea rax, [rip + heki_kexec_note]
        ret
        .balign 16
heki_sym_kexec_note_end:
        lea rax, [rip + heki_kexec_note_end]
        ret
