# kernelsign (tools/KernelSign): signed kernels (docs/vtl.md, "Signed kernels").
#   build/keys/signing-key.pem        RSA-2048 private key, generated at build time when missing
#                                     (never committed: build/ is ignored); .pub.pem and .modulus beside it
#   build/kernel.elf.sig              detached signature of build/kernel.elf (made with the kernel)
#   make sign-kernel / verify-kernel  sign / check build/kernel.elf against build/keys
# The kernel embeds the public key's modulus and its SHA-256 (build/kernel/signing-key-blob.s)
# and reports the digest at boot ("kexec: signing key sha256 ...").
KERNELSIGN_DIR   := $(ROOT)/tools/KernelSign
KERNELSIGN_OUT   := $(BUILD)/tools/kernelsign
KERNELSIGN_DLL   := $(KERNELSIGN_OUT)/kernelsign.dll
KERNELSIGN_SRC   := $(shell find $(KERNELSIGN_DIR) -name '*.cs' -not -path '*/obj/*' -not -path '*/bin/*') \
                    $(KERNELSIGN_DIR)/KernelSign.csproj $(ROOT)/Directory.Build.props $(ROOT)/Directory.Packages.props
KERNELSIGN       := $(DOTNET) $(KERNELSIGN_DLL)
SIGNING_KEYS     := $(BUILD)/keys
SIGNING_KEY      := $(SIGNING_KEYS)/signing-key.pem
SIGNING_PUBKEY   := $(SIGNING_KEYS)/signing-key.pub.pem
SIGNING_MODULUS  := $(SIGNING_KEYS)/signing-key.modulus
KERNEL_SIGNATURE := $(BUILD)/kernel.elf.sig

$(KERNELSIGN_DLL): $(KERNELSIGN_SRC)
	$(DOTNET) build $(KERNELSIGN_DIR)/KernelSign.csproj -c Release -o $(KERNELSIGN_OUT) --nologo -v q -clp:NoSummary
	@touch $@

# Generated once per build tree: a key that exists is never replaced (delete build/keys for a new one).
$(SIGNING_KEY): | $(KERNELSIGN_DLL)
	$(KERNELSIGN) keygen --dir $(SIGNING_KEYS)
$(SIGNING_PUBKEY) $(SIGNING_MODULUS): $(SIGNING_KEY)

$(KBUILD)/signing-key-blob.s: $(SIGNING_MODULUS) $(ROOT)/tools/KernelSign/embed-signing-key.sh
	@mkdir -p $(dir $@)
	bash $(ROOT)/tools/KernelSign/embed-signing-key.sh $(SIGNING_MODULUS) $@
$(KERNEL_SIGNING_BLOB): $(KBUILD)/signing-key-blob.s
	as --64 -o $@ $<

$(KERNEL_SIGNATURE): $(KERNEL_ELF) $(SIGNING_KEY) $(KERNELSIGN_DLL)
	$(KERNELSIGN) sign --key $(SIGNING_KEY) $(KERNEL_ELF) --output $@

.PHONY: sign-kernel verify-kernel
kernel: $(KERNEL_SIGNATURE)
sign-kernel: $(KERNEL_SIGNATURE)
verify-kernel: $(KERNEL_SIGNATURE)
	$(KERNELSIGN) verify --key $(SIGNING_PUBKEY) $(KERNEL_ELF) --signature $(KERNEL_SIGNATURE)
