/* heki_abi.h: the HekiGuest host interface (docs/abi.md) for C11 guests.
 *
 * GENERATED, DO NOT EDIT. Source: kernel/Sdk/HekiAbi.cs (namespace HekiGuest.Abi).
 * Generator: tools/AbiHeaderGen (abiheadergen), which compiles that file and reads every
 * constant and struct layout by reflection. Regenerate with `make abi-header`; `make test`
 * fails while this file differs from what the generator writes (`make check-abi-header`).
 */
#ifndef HEKI_ABI_H
#define HEKI_ABI_H

#include <stddef.h>
#include <stdint.h>

/* HekiCpuid */
#define HEKI_CPUID_SCAN_FIRST UINT32_C(0x40000000)
#define HEKI_CPUID_SCAN_LAST UINT32_C(0x4000FF00)
#define HEKI_CPUID_SCAN_STEP UINT32_C(0x100)
#define HEKI_CPUID_DEFAULT_BASE UINT32_C(0x40000100)
#define HEKI_CPUID_SIGNATURE_EBX UINT32_C(0x494B4548)
#define HEKI_CPUID_SIGNATURE_ECX UINT32_C(0x53455547)
#define HEKI_CPUID_SIGNATURE_EDX UINT32_C(0x49424154)
#define HEKI_CPUID_LEAF_SIGNATURE UINT32_C(0x0)
#define HEKI_CPUID_LEAF_FEATURES UINT32_C(0x1)
#define HEKI_CPUID_LEAF_LIMITS UINT32_C(0x2)
#define HEKI_CPUID_HIGHEST_LEAF_OFFSET UINT32_C(0x2)
#define HEKI_CPUID_ABI_VERSION UINT32_C(0x1)
#define HEKI_CPUID_ABI_MAJOR UINT32_C(0x1)
#define HEKI_CPUID_ABI_MINOR UINT32_C(0x0)
#define HEKI_CPUID_VERSION_MAJOR_MASK UINT32_C(0xFFFF)
#define HEKI_CPUID_VERSION_MINOR_SHIFT INT32_C(16)
#define HEKI_CPUID_FEATURE_CR_PIN_MSRS UINT32_C(0x1)
#define HEKI_CPUID_FEATURE_LOCK_CR_HYPERCALL UINT32_C(0x2)
#define HEKI_CPUID_FEATURE_PROTECT_MEMORY UINT32_C(0x4)
#define HEKI_CPUID_FEATURE_DENIAL_EVENTS UINT32_C(0x8)

/* HekiMsr */
#define HEKI_MSR_DEFAULT_BASE UINT32_C(0x48454B00)
#define HEKI_MSR_CR0_PIN_ALLOWED UINT32_C(0x0)
#define HEKI_MSR_CR4_PIN_ALLOWED UINT32_C(0x1)
#define HEKI_MSR_CR0_PINNED_LOW UINT32_C(0x2)
#define HEKI_MSR_CR0_PINNED_HIGH UINT32_C(0x3)
#define HEKI_MSR_CR4_PINNED_LOW UINT32_C(0x4)
#define HEKI_MSR_CR4_PINNED_HIGH UINT32_C(0x5)
#define HEKI_MSR_COUNT UINT32_C(0x6)

/* HekiCrBits */
#define HEKI_CR_BITS_CR0_WP UINT64_C(0x10000)
#define HEKI_CR_BITS_CR4_UMIP UINT64_C(0x800)
#define HEKI_CR_BITS_CR4_SMEP UINT64_C(0x100000)
#define HEKI_CR_BITS_CR4_SMAP UINT64_C(0x200000)
#define HEKI_CR_BITS_CR0_ALLOWED UINT64_C(0x10000)
#define HEKI_CR_BITS_CR4_ALLOWED UINT64_C(0x300800)

/* HekiHypercall */
#define HEKI_HYPERCALL_DEFAULT_BASE UINT32_C(0x48450000)
#define HEKI_HYPERCALL_VERSION UINT32_C(0x0)
#define HEKI_HYPERCALL_LOCK_CR UINT32_C(0x1)
#define HEKI_HYPERCALL_PROTECT_MEMORY UINT32_C(0x2)
#define HEKI_HYPERCALL_LOCK_CR_FLAG_VERSION UINT64_C(0x1)

/* HekiError */
#define HEKI_ERROR_SUCCESS INT64_C(0)
#define HEKI_ERROR_PERMISSION_DENIED INT64_C(-1)
#define HEKI_ERROR_TOO_BIG INT64_C(-7)
#define HEKI_ERROR_BAD_ADDRESS INT64_C(-14)
#define HEKI_ERROR_INVALID_ARGUMENT INT64_C(-22)
#define HEKI_ERROR_NOT_SUPPORTED INT64_C(-95)
#define HEKI_ERROR_NO_SUCH_HYPERCALL INT64_C(-1000)

/* HekiPermission */
#define HEKI_PERMISSION_READ UINT64_C(0x1)
#define HEKI_PERMISSION_WRITE UINT64_C(0x2)
#define HEKI_PERMISSION_EXECUTE UINT64_C(0x4)
#define HEKI_PERMISSION_IMMUTABLE UINT64_C(0x8)
#define HEKI_PERMISSION_ALL UINT64_C(0xF)

/* HekiLimits */
#define HEKI_LIMITS_MAX_RANGES_PER_CALL UINT32_C(0x40)
#define HEKI_LIMITS_MAX_RANGES UINT32_C(0x1000)
#define HEKI_LIMITS_GRANULE UINT32_C(0x1000)

/* HekiDenial */
#define HEKI_DENIAL_PAGE_FAULT_ERROR_BIT UINT32_C(0x80000000)

/* HekiCompat */
#define HEKI_COMPAT_KVM_CPUID_BASE UINT32_C(0x40000000)
#define HEKI_COMPAT_KVM_SIGNATURE_EBX UINT32_C(0x4B4D564B)
#define HEKI_COMPAT_KVM_SIGNATURE_ECX UINT32_C(0x564B4D56)
#define HEKI_COMPAT_KVM_SIGNATURE_EDX UINT32_C(0x4D)
#define HEKI_COMPAT_KVM_CPUID_FEATURES UINT32_C(0x40000001)
#define HEKI_COMPAT_CR_PIN2020_FEATURE_BIT INT32_C(15)
#define HEKI_COMPAT_CR_PIN2020_CR0_PIN_ALLOWED UINT32_C(0x4B564D08)
#define HEKI_COMPAT_CR_PIN2020_CR4_PIN_ALLOWED UINT32_C(0x4B564D09)
#define HEKI_COMPAT_CR_PIN2020_CR0_PINNED_LOW UINT32_C(0x4B564D0A)
#define HEKI_COMPAT_CR_PIN2020_CR0_PINNED_HIGH UINT32_C(0x4B564D0B)
#define HEKI_COMPAT_CR_PIN2020_CR4_PINNED_LOW UINT32_C(0x4B564D0C)
#define HEKI_COMPAT_CR_PIN2020_CR4_PINNED_HIGH UINT32_C(0x4B564D0D)
#define HEKI_COMPAT_HEKI_V3_LOCK_CR_UPDATE UINT32_C(0xD)
#define HEKI_COMPAT_HEKI_V3_FLAG_VERSION UINT64_C(0x1)
#define HEKI_COMPAT_HEKI_V3_VERSION INT64_C(1)

/* HekiProfileNames */
#define HEKI_PROFILE_NAMES_DEFAULT "heki"
#define HEKI_PROFILE_NAMES_CR_PIN2020 "cr-pin-2020"
#define HEKI_PROFILE_NAMES_HEKI_V3 "heki-v3"
#define HEKI_PROFILE_NAMES_OFF "off"

/* HekiRange: 24 bytes */
struct heki_range {
    uint64_t guest_physical_start; /* offset 0 */
    uint64_t page_count; /* offset 8 */
    uint64_t permissions; /* offset 16 */
};
_Static_assert(sizeof(struct heki_range) == 24, "HekiRange is 24 bytes in kernel/Sdk/HekiAbi.cs");
_Static_assert(offsetof(struct heki_range, guest_physical_start) == 0, "HekiRange.GuestPhysicalStart is at offset 0");
_Static_assert(sizeof(((struct heki_range *)0)->guest_physical_start) == 8, "HekiRange.GuestPhysicalStart is 8 bytes");
_Static_assert(offsetof(struct heki_range, page_count) == 8, "HekiRange.PageCount is at offset 8");
_Static_assert(sizeof(((struct heki_range *)0)->page_count) == 8, "HekiRange.PageCount is 8 bytes");
_Static_assert(offsetof(struct heki_range, permissions) == 16, "HekiRange.Permissions is at offset 16");
_Static_assert(sizeof(((struct heki_range *)0)->permissions) == 8, "HekiRange.Permissions is 8 bytes");

#endif /* HEKI_ABI_H */
