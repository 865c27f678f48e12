/* heki_platform.h: the HekiGuest platform layer (kernel/Platform/asm) for C guests.
 *
 * A C guest links the platform's boot stub (boot.s), CPU helpers (cpu.s) and sealed routines
 * (sealed.s) through mk/guest.mk (P_PLATFORM_ASM := boot cpu sealed) and provides the three
 * symbols of the runtime contract below. docs/sdk.md describes every function and the boot state.
 * Every function uses the SysV x86-64 calling convention. Only the heki_sealed_* routines contain
 * privileged writes (CR0/CR3/CR4, WRMSR, XSETBV, LGDT/LIDT/LTR/LLDT); sealcheck rejects an image
 * that has such an instruction anywhere else, the guest's own C code included.
 */
#ifndef HEKI_PLATFORM_H
#define HEKI_PLATFORM_H
#include <stdint.h>

/* ---- what the guest provides ------------------------------------------------------------- */
/* Called once by the boot stub before the entry, with the __modules section and the early heap
 * (HEKI_HEAP_SIZE bytes, not zeroed). SSE is on, RSP is 16-byte aligned, interrupts are off. */
void heki_runtime_init(void *modules_start, void *modules_end, void *heap, uint64_t heap_size);
/* The guest entry (the link step aliases heki_guest_entry to P_ENTRY). magic is 0x36D76289 for
 * multiboot2 (info = the multiboot2 information), else info points at a PVH hvm_start_info. */
/* void <entry>(uint32_t magic, uint32_t info);  must not return */
/* Called by the exception stubs (heki_isr_table) with the frame below; returning resumes at
 * frame->rip with frame->rsp (change them to recover). */
struct heki_interrupt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code, rip, cs, rflags, rsp, ss;
};
void heki_exception_dispatch(struct heki_interrupt_frame *frame);

/* ---- cpu.s: unprivileged helpers ---------------------------------------------------------- */
void heki_outb(uint16_t port, uint8_t value);
uint8_t heki_inb(uint16_t port);
uint64_t heki_read_cr0(void);
uint64_t heki_read_cr2(void);
uint64_t heki_read_cr3(void);
uint64_t heki_read_cr4(void);
uint64_t heki_rdmsr(uint32_t msr);                 /* #GP when the MSR does not exist: probe it */
void heki_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);   /* EAX, EBX, ECX, EDX */
void heki_hlt(void);
void heki_cli(void);
/* VMCALL with KVM's register convention: RAX = nr, RBX/RCX/RDX/RSI = a0..a3; returns RAX.
 * #UD on a host without hypercalls: probe it. */
int64_t heki_vmcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
/* Runs fn; returns 0 when it returned, 1 when the exception handler resumed at ctx->resume_rip
 * with RSP = ctx->saved_rsp (heki_probe_run fills both before calling fn). Callee-saved
 * registers are restored either way. */
struct heki_probe_context { uint64_t saved_rsp, resume_rip; };
int heki_probe_run(void (*fn)(void), struct heki_probe_context *ctx);

/* Linker-symbol accessors (kernel/Platform/guest.ld.in). */
uint64_t heki_sym_image_start(void);
uint64_t heki_sym_image_end(void);
uint64_t heki_sym_text_start(void);
uint64_t heki_sym_text_end(void);
uint64_t heki_sym_sealed_start(void);
uint64_t heki_sym_sealed_end(void);
uint64_t heki_sym_rodata_start(void);
uint64_t heki_sym_rodata_end(void);
uint64_t heki_sym_data_start(void);
uint64_t heki_sym_data_end(void);
const uint64_t *heki_sym_isr_table(void);           /* 32 exception entry stubs */

/* ---- sealed.s: the only privileged writes ------------------------------------------------- */
struct __attribute__((packed)) heki_descriptor_table_pointer { uint16_t limit; uint64_t base; };
void heki_sealed_write_cr0(uint64_t value);
void heki_sealed_write_cr3(uint64_t value);
void heki_sealed_write_cr4(uint64_t value);
void heki_sealed_wrmsr(uint32_t msr, uint64_t value);
void heki_sealed_lidt(const struct heki_descriptor_table_pointer *p);
void heki_sealed_lgdt(const struct heki_descriptor_table_pointer *p);

/* The boot stub's GDT: 64-bit kernel code and data selectors. */
#define HEKI_BOOT_CODE_SELECTOR 0x08
#define HEKI_BOOT_DATA_SELECTOR 0x10
/* Boot protocols (the entry's magic; PVH is recognised by the start info's own magic). */
#define HEKI_MULTIBOOT2_MAGIC UINT32_C(0x36D76289)
#define HEKI_PVH_MAGIC UINT32_C(0x336EC578)
/* isa-debug-exit (QEMU, hostsim): writing v exits with status (v << 1) | 1. */
#define HEKI_DEBUG_EXIT_PORT 0xF4

#endif /* HEKI_PLATFORM_H */
