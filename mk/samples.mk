# The sample guests (samples/*), each built by its own Makefile through mk/guest.mk, exactly as a
# copy outside the checkout is (`make HEKI_SDK=/path/to/HekiGuest` in the sample's directory).
#   make samples            build every sample (verified by sealcheck)
#   make run-sample         boot the C# sample on hostsim; exit 0 when it passed
#   make run-sample-qemu    the same under qemu -kernel (TCG)
#   make run-sample-c / run-sample-c-qemu   the C sample
SAMPLES := csharp-minimal c-minimal
SAMPLE_MAKE = $(MAKE) --no-print-directory -C $(ROOT)/samples/$(1) HEKI_SDK=$(ROOT) HEKI_TOOLS=$(BUILD)/heki-tools

.PHONY: samples run-sample run-sample-qemu run-sample-c run-sample-c-qemu
samples:
	@$(foreach s,$(SAMPLES),$(call SAMPLE_MAKE,$(s)) all &&) true

run-sample: $(HOSTSIM_DLL)
	@$(call SAMPLE_MAKE,csharp-minimal) run-hostsim

run-sample-qemu: | deps-qemu
	@$(call SAMPLE_MAKE,csharp-minimal) run-qemu

run-sample-c: $(HOSTSIM_DLL)
	@$(call SAMPLE_MAKE,c-minimal) run-hostsim

run-sample-c-qemu: | deps-qemu
	@$(call SAMPLE_MAKE,c-minimal) run-qemu

.PHONY: clean-samples
clean-samples:
	rm -rf $(foreach s,$(SAMPLES),$(ROOT)/samples/$(s)/build)
clean: clean-samples
