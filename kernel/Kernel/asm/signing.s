# Addresses of the kexec signing key built into the kernel (build/kernel/signing-key-blob.s, made
# by tools/KernelSign/embed-signing-key.sh): the RSA-2048 modulus and its SHA-256.
        .intel_syntax noprefix
        .section .text
        .global heki_sym_signing_key_modulus, heki_sym_signing_key_digest
        .balign 16
heki_sym_signing_key_modulus:
        lea rax, [rip + heki_signing_key_modulus]
        ret
        .balign 16
heki_sym_signing_key_digest:
        lea rax, [rip + heki_signing_key_digest]
        ret
