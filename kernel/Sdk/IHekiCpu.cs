namespace HekiGuest.Sdk
{
    /// <summary>
    /// The privileged primitives the SDK needs, supplied by the guest (which decides where they
    /// live: in the HekiGuest kernel, MSR writes go through its sealed section). Accesses that
    /// may fault on a host without the interface report failure instead of faulting.
    /// </summary>
    public unsafe interface IHekiCpu
    {
        void Cpuid(uint leaf, uint subleaf, uint* eaxEbxEcxEdx);
        bool TryReadMsr(uint msr, out ulong value);
        bool TryWriteMsr(uint msr, ulong value);
        /// <summary>VMCALL with RAX = number and RBX, RCX, RDX, RSI = a0..a3. Returns RAX, or
        /// false when the instruction faulted (no hypervisor interface).</summary>
        bool TryHypercall(ulong number, ulong a0, ulong a1, ulong a2, ulong a3, out long result);
        /// <summary>The current value of CR0 (cr = 0) or CR4 (cr = 4); 0 for any other register.</summary>
        ulong ReadControlRegister(int cr);
        /// <summary>The guest-physical address the guest's own page tables give
        /// <paramref name="virtualAddress"/>; false when it is not mapped. An identity-mapped guest
        /// returns the address itself.</summary>
        bool TryVirtualToPhysical(ulong virtualAddress, out ulong physicalAddress);
    }
}
