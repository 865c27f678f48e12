/* c-minimal: a C guest on the HekiGuest platform layer, written against docs/abi.md with the
 * generated heki_abi.h. It detects the host interface, pins CR0.WP and CR4.SMEP/SMAP/UMIP, makes
 * its text and sealed section R+X immutable, rodata R immutable and every other RAM page never
 * executable (the policy of the C# SDK's GuestHardening, with the same report lines), then checks
 * that the host enforces the pin and the text protection, in kvm-unit-tests lines. Without a host
 * interface (QEMU) those checks SKIP and the guest still passes (debug-exit 0, host exit code 1). */
#include <heki_abi.h>
#include <heki_platform.h>

#define COM1 0x3F8
#define CR0_WP (UINT64_C(1) << 16)
#define CR4_UMIP (UINT64_C(1) << 11)
#define CR4_SMEP (UINT64_C(1) << 20)
#define CR4_SMAP (UINT64_C(1) << 21)
#define PF_WRITE 2u
#define MAX_RANGES 192

/* ---- console -------------------------------------------------------------------------------- */
static void putc_serial(char c)
{
    for (int spin = 0; spin < 100000 && !(heki_inb(COM1 + 5) & 0x20); spin++) {}
    heki_outb(COM1, (uint8_t)c);
}
static void put(const char *s) { while (*s) putc_serial(*s++); }
static void put_hex(uint64_t v)
{
    char buf[19];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    put("0x");
    while (n) putc_serial(buf[--n]);
}
static void put_dec(int64_t v)
{
    char buf[21];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) putc_serial('-');
    do { buf[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    while (n) putc_serial(buf[--n]);
}
static __attribute__((noreturn)) void guest_exit(uint8_t status)
{
    heki_outb(HEKI_DEBUG_EXIT_PORT, status);
    for (;;) { heki_cli(); heki_hlt(); }
}

/* ---- runtime contract: heap, exceptions, fault probes ----------------------------------------- */
static uint8_t *heap_next, *heap_end;

void heki_runtime_init(void *modules_start, void *modules_end, void *heap, uint64_t heap_size)
{
    (void)modules_start; (void)modules_end;   /* no C# modules in a C image */
    heap_next = heap;
    heap_end = (uint8_t *)heap + heap_size;
}

static void *alloc_zeroed(uint64_t bytes)
{
    uint8_t *p = heap_next;
    bytes = (bytes + 15) & ~UINT64_C(15);
    if ((uint64_t)(heap_end - p) < bytes) { put("PANIC: out of memory\n"); guest_exit(2); }
    heap_next += bytes;
    for (uint64_t i = 0; i < bytes; i++) p[i] = 0;
    return p;
}

struct fault { int faulted; uint64_t vector, error, cr2; };
static struct heki_probe_context probe_ctx;
static struct fault probe_result;
static volatile int probe_active;

void heki_exception_dispatch(struct heki_interrupt_frame *f)
{
    if (probe_active) {
        probe_active = 0;
        probe_result.faulted = 1;
        probe_result.vector = f->vector;
        probe_result.error = f->error_code;
        probe_result.cr2 = heki_read_cr2();
        f->rip = probe_ctx.resume_rip;
        f->rsp = probe_ctx.saved_rsp;
        return;
    }
    put("PANIC: unhandled exception vector "); put_dec((int64_t)f->vector);
    put(" error "); put_hex(f->error_code); put(" at "); put_hex(f->rip); put("\n");
    guest_exit(2);
}

/* Runs fn; a fault inside it is recorded and execution continues here. */
static struct fault probe(void (*fn)(void))
{
    probe_result = (struct fault){ 0, 0, 0, 0 };
    probe_active = 1;
    heki_probe_run(fn, &probe_ctx);
    probe_active = 0;
    return probe_result;
}

static void install_idt(void)
{
    uint64_t *idt = alloc_zeroed(256 * 16);
    const uint64_t *stubs = heki_sym_isr_table();
    for (int v = 0; v < 32; v++) {
        uint64_t h = stubs[v];
        idt[v * 2] = (h & 0xFFFF) | ((uint64_t)HEKI_BOOT_CODE_SELECTOR << 16) | (UINT64_C(0x8E) << 40) | (((h >> 16) & 0xFFFF) << 48);
        idt[v * 2 + 1] = h >> 32;
    }
    struct heki_descriptor_table_pointer p = { 256 * 16 - 1, (uint64_t)idt };
    heki_sealed_lidt(&p);
}

/* ---- probed privileged operations --------------------------------------------------------- */
static uint32_t op_msr;
static uint64_t op_value, op_nr, op_a0, op_a1;
static int64_t op_result;
static void do_rdmsr(void) { op_value = heki_rdmsr(op_msr); }
static void do_wrmsr(void) { heki_sealed_wrmsr(op_msr, op_value); }
static void do_vmcall(void) { op_result = heki_vmcall(op_nr, op_a0, op_a1, 0, 0); }
static void do_write_cr0(void) { heki_sealed_write_cr0(op_value); }
static void do_poke(void) { volatile uint8_t *p = (uint8_t *)op_value; *p = (uint8_t)(*p ^ 0xFF); }

static int try_rdmsr(uint32_t msr, uint64_t *value)
{
    op_msr = msr;
    if (probe(do_rdmsr).faulted) return 0;
    *value = op_value;
    return 1;
}
static int try_wrmsr(uint32_t msr, uint64_t value)
{
    op_msr = msr; op_value = value;
    return !probe(do_wrmsr).faulted;
}

/* ---- the host interface ------------------------------------------------------------------- */
struct host { int present; uint32_t version, features, msr_base, hypercall_base, per_call; const char *reason; };

static struct host detect(void)
{
    struct host h = { 0, 0, 0, 0, 0, 0, "no HekiGuest host interface (no HEKIGUESTABI CPUID range)" };
    uint32_t r[4];
    heki_cpuid(1, 0, r);
    if (!(r[2] & (1u << 31))) { h.reason = "no hypervisor (CPUID.1:ECX.HV clear)"; return h; }
    for (uint32_t b = HEKI_CPUID_SCAN_FIRST; b <= HEKI_CPUID_SCAN_LAST; b += HEKI_CPUID_SCAN_STEP) {
        heki_cpuid(b, 0, r);
        if (r[1] != HEKI_CPUID_SIGNATURE_EBX || r[2] != HEKI_CPUID_SIGNATURE_ECX || r[3] != HEKI_CPUID_SIGNATURE_EDX) continue;
        if (r[0] < b + HEKI_CPUID_HIGHEST_LEAF_OFFSET) { h.reason = "HekiGuest CPUID range too short"; return h; }
        heki_cpuid(b + HEKI_CPUID_LEAF_FEATURES, 0, r);
        h.version = r[0]; h.features = r[1]; h.msr_base = r[2]; h.hypercall_base = r[3];
        heki_cpuid(b + HEKI_CPUID_LEAF_LIMITS, 0, r);
        h.per_call = r[0] ? r[0] : 1;
        /* Forward compatibility (docs/abi.md section 1): any minor of the major we know. */
        h.present = (h.version & HEKI_CPUID_VERSION_MAJOR_MASK) == HEKI_CPUID_ABI_MAJOR;
        h.reason = h.present ? "" : "unsupported HekiGuest ABI major version";
        return h;
    }
    return h;
}

/* Pins the bits of `want` that are set now and allowed; returns 0 or a negative error. */
static int64_t pin(const struct host *h, int cr, uint64_t want, uint64_t *pinned)
{
    uint64_t allowed, current;
    uint32_t allowed_msr = h->msr_base + (cr == 0 ? HEKI_MSR_CR0_PIN_ALLOWED : HEKI_MSR_CR4_PIN_ALLOWED);
    uint32_t high_msr = h->msr_base + (cr == 0 ? HEKI_MSR_CR0_PINNED_HIGH : HEKI_MSR_CR4_PINNED_HIGH);
    *pinned = 0;
    if (!(h->features & HEKI_CPUID_FEATURE_CR_PIN_MSRS)) return HEKI_ERROR_NOT_SUPPORTED;
    if (!try_rdmsr(allowed_msr, &allowed) || !try_rdmsr(high_msr, &current)) return HEKI_ERROR_BAD_ADDRESS;
    uint64_t bits = (cr == 0 ? heki_read_cr0() : heki_read_cr4()) & want & allowed;
    if (!bits) return HEKI_ERROR_SUCCESS;
    if (!try_wrmsr(high_msr, current | bits) || !try_rdmsr(high_msr, &current) || (current & bits) != bits)
        return HEKI_ERROR_INVALID_ARGUMENT;
    *pinned = bits;
    return HEKI_ERROR_SUCCESS;
}

/* ---- memory protection -------------------------------------------------------------------- */
static struct heki_range ranges[MAX_RANGES];
static int range_count;

static int add_range(uint64_t start, uint64_t end, uint64_t perms)
{
    if (end <= start) return 1;
    if (range_count == MAX_RANGES) return 0;
    ranges[range_count++] = (struct heki_range){ start, (end - start) / HEKI_LIMITS_GRANULE, perms };
    return 1;
}

/* Usable RAM below 4 GiB (the boot stub's identity map) from multiboot2 tag 6 or the PVH map,
 * each region minus the image's text, sealed and rodata pages (which the first ranges hold). */
static int add_ram(uint32_t magic, uint32_t info, int image_ranges)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)info;
    uint64_t base[64], len[64];
    int n = 0;
    if (magic == HEKI_MULTIBOOT2_MAGIC) {
        uint32_t total = *(const uint32_t *)p;
        for (uint32_t off = 8; off + 8 <= total; ) {
            uint32_t type = *(const uint32_t *)(p + off), size = *(const uint32_t *)(p + off + 4);
            if (type == 0 || size < 8) break;
            if (type == 6) {
                uint32_t esz = *(const uint32_t *)(p + off + 8);
                for (uint32_t e = 16; esz >= 24 && e + esz <= size && n < 64; e += esz)
                    if (*(const uint32_t *)(p + off + e + 16) == 1) {
                        base[n] = *(const uint64_t *)(p + off + e); len[n++] = *(const uint64_t *)(p + off + e + 8);
                    }
            }
            off += (size + 7) & ~7u;
        }
    } else if (*(const uint32_t *)p == HEKI_PVH_MAGIC && *(const uint32_t *)(p + 4) >= 1) {
        const uint8_t *map = (const uint8_t *)(uintptr_t)*(const uint64_t *)(p + 40);
        uint32_t entries = *(const uint32_t *)(p + 48);
        for (uint32_t i = 0; i < entries && n < 64; i++)
            if (*(const uint32_t *)(map + i * 24 + 16) == 1) {
                base[n] = *(const uint64_t *)(map + i * 24); len[n++] = *(const uint64_t *)(map + i * 24 + 8);
            }
    }
    const uint64_t rw = HEKI_PERMISSION_READ | HEKI_PERMISSION_WRITE | HEKI_PERMISSION_IMMUTABLE;
    for (int i = 0; i < n; i++) {
        uint64_t start = (base[i] + 0xFFF) & ~UINT64_C(0xFFF), end = (base[i] + len[i]) & ~UINT64_C(0xFFF);
        if (end > (UINT64_C(1) << 32)) end = UINT64_C(1) << 32;
        uint64_t cur = start;
        while (cur < end) {
            uint64_t next = end;
            int inside = 0;
            for (int h = 0; h < image_ranges; h++) {
                uint64_t hs = ranges[h].guest_physical_start, he = hs + ranges[h].page_count * HEKI_LIMITS_GRANULE;
                if (cur >= hs && cur < he) { inside = 1; next = he; break; }
                if (hs > cur && hs < next) next = hs;
            }
            if (!inside && !add_range(cur, next, rw)) return 0;
            cur = next;
        }
    }
    return 1;
}

static int64_t protect_memory(const struct host *h, uint32_t magic, uint32_t info)
{
    const uint64_t rx = HEKI_PERMISSION_READ | HEKI_PERMISSION_EXECUTE | HEKI_PERMISSION_IMMUTABLE;
    if (!(h->features & HEKI_CPUID_FEATURE_PROTECT_MEMORY)) return HEKI_ERROR_NOT_SUPPORTED;
    range_count = 0;
    add_range(heki_sym_image_start(), heki_sym_text_end(), rx);
    add_range(heki_sym_sealed_start(), heki_sym_sealed_end(), rx);
    add_range(heki_sym_rodata_start(), heki_sym_rodata_end(), HEKI_PERMISSION_READ | HEKI_PERMISSION_IMMUTABLE);
    if (!add_ram(magic, info, range_count)) return HEKI_ERROR_TOO_BIG;
    for (int i = 0; i < range_count; i += (int)h->per_call) {
        int batch = range_count - i < (int)h->per_call ? range_count - i : (int)h->per_call;
        op_nr = h->hypercall_base + HEKI_HYPERCALL_PROTECT_MEMORY;
        op_a0 = (uint64_t)(uintptr_t)&ranges[i];   /* identity-mapped: virtual = guest-physical */
        op_a1 = (uint64_t)batch;
        if (probe(do_vmcall).faulted) return HEKI_ERROR_NO_SUCH_HYPERCALL;
        if (op_result < 0) return op_result;
    }
    return HEKI_ERROR_SUCCESS;
}

/* ---- report and checks -------------------------------------------------------------------- */
static int tests, failed, skipped;
static void report(const char *what, int enforced, int64_t error)
{
    put("heki: "); put(what); put(": ");
    if (enforced) put("host-enforced\n");
    else { put("guest-only (host said "); put_dec(error); put(")\n"); }
}
static void result(int ok, const char *name, const char *detail)
{
    tests++;
    if (ok) { put("PASS: sample: "); put(name); put("\n"); return; }
    failed++;
    put("FAIL: sample: "); put(name); put(" ("); put(detail); put(")\n");
}
static void skip(const char *name, const char *reason)
{
    tests++; skipped++;
    put("SKIP: sample: "); put(name); put(" ("); put(reason); put(")\n");
}

void guest_main(uint32_t magic, uint32_t info)
{
    put("c-minimal: a HekiGuest sample guest in C\n");
    install_idt();
    uint32_t r[4];
    heki_cpuid(0, 0, r);
    uint64_t cr4 = heki_read_cr4();
    if (r[0] >= 7) {
        heki_cpuid(7, 0, r);
        if (r[1] & (1u << 7)) cr4 |= CR4_SMEP;
        if (r[1] & (1u << 20)) cr4 |= CR4_SMAP;
        if (r[2] & (1u << 2)) cr4 |= CR4_UMIP;
        heki_sealed_write_cr4(cr4);
    }

    struct host h = detect();
    uint64_t cr0_pinned = 0, cr4_pinned = 0;
    int64_t cr0_result = HEKI_ERROR_NOT_SUPPORTED, cr4_result = HEKI_ERROR_NOT_SUPPORTED, mem_result = HEKI_ERROR_NOT_SUPPORTED;
    if (!h.present) {
        put("heki: "); put(h.reason); put("; every protection is guest-enforced only\n");
    } else {
        put("heki: host interface HekiGuest ABI version "); put_dec(h.version & HEKI_CPUID_VERSION_MAJOR_MASK);
        if (h.version >> HEKI_CPUID_VERSION_MINOR_SHIFT) { put("."); put_dec(h.version >> HEKI_CPUID_VERSION_MINOR_SHIFT); }
        put(", features "); put_hex(h.features); put("\n");
        cr0_result = pin(&h, 0, CR0_WP, &cr0_pinned);
        cr4_result = pin(&h, 4, CR4_SMEP | CR4_SMAP | CR4_UMIP, &cr4_pinned);
        mem_result = protect_memory(&h, magic, info);
        report("CR0.WP pinned", cr0_pinned && cr0_result == 0, cr0_result);
        report("CR4.SMEP/SMAP/UMIP pinned", cr4_pinned && cr4_result == 0, cr4_result);
        report("kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable", mem_result == 0, mem_result);
    }

    if (!h.present) {
        skip("host interface detected", h.reason);
        skip("clearing pinned CR0.WP faults", "no host interface");
        skip("a write to the guest's own text faults", "no host interface");
    } else {
        result(1, "host interface detected", "");
        uint64_t cr0 = heki_read_cr0();
        op_value = cr0 & ~CR0_WP;
        struct fault f = cr0_pinned & CR0_WP ? probe(do_write_cr0) : (struct fault){ 0, 0, 0, 0 };
        result(f.faulted && f.vector == 13 && heki_read_cr0() == cr0, "clearing pinned CR0.WP faults", "no #GP or CR0 changed");
        uint64_t target = heki_sym_text_start() + 0x100;
        uint8_t before = *(volatile uint8_t *)target;
        op_value = target;
        f = mem_result == 0 ? probe(do_poke) : (struct fault){ 0, 0, 0, 0 };
        result(f.faulted && f.vector == 14 && (f.error & HEKI_DENIAL_PAGE_FAULT_ERROR_BIT) && (f.error & PF_WRITE)
               && f.cr2 == target && *(volatile uint8_t *)target == before,
               "a write to the guest's own text faults", "the write was not denied by the host");
    }
    result((heki_read_cr0() & CR0_WP) != 0, "CR0.WP is set", "CR0.WP clear");
    put("SUMMARY: "); put_dec(tests); put(" tests");
    if (failed) { put(", "); put_dec(failed); put(" unexpected failures"); }
    if (skipped) { put(", "); put_dec(skipped); put(" skipped"); }
    put("\n");
    guest_exit(failed ? 1 : 0);
}
