# Addresses of the embedded VTL1 monitor (build/kernel/monitor-blob.s, made by
# vtl1-monitor/embed-monitor.sh): the image bytes and the SHA-256 digest built into the kernel.
        .intel_syntax noprefix
        .section .text
        .global heki_sym_monitor_image, heki_sym_monitor_image_end, heki_sym_monitor_digest
        .balign 16
heki_sym_monitor_image:
        lea rax, [rip + heki_monitor_image]
        ret
        .balign 16
heki_sym_monitor_image_end:
        lea rax, [rip + heki_monitor_image_end]
        ret
        .balign 16
heki_sym_monitor_digest:
        lea rax, [rip + heki_monitor_digest]
        ret
