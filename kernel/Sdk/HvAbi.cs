// The Hyper-V Virtual Secure Mode interface (x64): the numbers and bit fields of the Hyper-V
// TLFS subset in /work/shared/notes/vsm.md and docs/vtl.md, in ONE file compiled into the guest
// SDK (against the kernel's corelib), the VTL1 monitor and hostsim (HostSim.Vsm, as a linked
// source). Constants only, so it builds in both worlds. Named HvAbi after the TLFS's own "Hv"
// prefix (HvCallVtlCall, HV_STATUS_...), beside HekiAbi.cs for the HekiGuest interface.
namespace HekiGuest.Abi
{
    /// <summary>Discovery: the Hyper-V CPUID leaves at 0x40000000.</summary>
    public static class HvCpuid
    {
        public const uint VendorLeaf = 0x40000000;      // EAX highest leaf, EBX:ECX:EDX vendor
        public const uint InterfaceLeaf = 0x40000001;   // EAX interface signature
        public const uint IdentityLeaf = 0x40000002;    // system identity (build, version)
        public const uint FeaturesLeaf = 0x40000003;    // EAX:EBX partition privileges, ECX, EDX features
        public const uint RecommendationsLeaf = 0x40000004;
        public const uint LimitsLeaf = 0x40000005;
        public const uint HardwareFeaturesLeaf = 0x40000006;
        public const uint HighestLeaf = HardwareFeaturesLeaf;

        // "Microsoft Hv"
        public const uint VendorEbx = 0x7263694D;   // "Micr"
        public const uint VendorEcx = 0x666F736F;   // "osof"
        public const uint VendorEdx = 0x76482074;   // "t Hv"
        /// <summary>"Hv#1": the Microsoft hypervisor interface.</summary>
        public const uint InterfaceHv1 = 0x31237648;

        /// <summary>Where a KVM signature moves when Hyper-V's range owns 0x40000000.</summary>
        public const uint KvmBaseWithHyperV = 0x40000100;

        /// <summary>EBX in the spinlock-retry field of the recommendations leaf: never notify.</summary>
        public const uint SpinlockRetriesNever = 0xFFFFFFFF;
    }

    /// <summary>Partition privileges (CPUID 0x40000003 EAX = bits 31:0, EBX = bits 63:32).</summary>
    public static class HvPrivilege
    {
        // EAX
        public const uint AccessHypercallMsrs = 1u << 5;   // GUEST_OS_ID and HYPERCALL
        public const uint AccessVpIndex = 1u << 6;         // VP_INDEX
        // EBX
        public const uint AccessVsm = 1u << 16;
        public const uint AccessVpRegisters = 1u << 17;
    }

    /// <summary>Synthetic MSRs.</summary>
    public static class HvMsr
    {
        public const uint GuestOsId = 0x40000000;
        public const uint Hypercall = 0x40000001;
        public const uint VpIndex = 0x40000002;
        public const uint VpAssistPage = 0x40000073;

        /// <summary>HYPERCALL and VP_ASSIST_PAGE: bit 0 enable, bits 63:12 the guest page number.</summary>
        public const ulong Enable = 1UL << 0;
        /// <summary>HYPERCALL bit 1: locked (hostsim does not offer it; docs/vtl.md).</summary>
        public const ulong HypercallLocked = 1UL << 1;
        public const ulong PageNumberMask = ~0xFFFUL;
    }

    /// <summary>Hypercall call codes (input value bits 15:0).</summary>
    public static class HvCall
    {
        public const ushort ModifyVtlProtectionMask = 0x000C;   // rep
        public const ushort EnablePartitionVtl = 0x000D;
        public const ushort EnableVpVtl = 0x000F;
        public const ushort VtlCall = 0x0011;
        public const ushort VtlReturn = 0x0012;
        public const ushort GetVpRegisters = 0x0050;            // rep
        public const ushort SetVpRegisters = 0x0051;            // rep
        public const ushort TranslateVirtualAddress = 0x0052;
        public const ushort StartVirtualProcessor = 0x0099;
        public const ushort GetVpIndexFromApicId = 0x009A;

        public const ulong PartitionSelf = 0xFFFFFFFFFFFFFFFF;
        public const uint VpSelf = 0xFFFFFFFE;
    }

    /// <summary>The hypercall input value (RCX in 64-bit mode) and result value (RAX).</summary>
    public static class HvHypercallInput
    {
        public const ulong CodeMask = 0xFFFF;                   // bits 15:0
        public const ulong Fast = 1UL << 16;                    // bit 16
        public const int VariableHeaderShift = 17;              // bits 26:17, in 8-byte units
        public const ulong VariableHeaderMask = 0x3FF;
        public const int RepCountShift = 32;                    // bits 43:32
        public const int RepStartShift = 48;                    // bits 59:48
        public const ulong RepMask = 0xFFF;
        /// <summary>Bits 31:27, 47:44, 63:60: must be zero.</summary>
        public const ulong ReservedMask = 0xF000F000F8000000;

        public const ulong StatusMask = 0xFFFF;                 // result bits 15:0
        public const int RepsCompletedShift = 32;               // result bits 43:32

        /// <summary>Memory-form input and output blocks: 8-byte aligned, within one page.</summary>
        public const ulong BlockAlignment = 8;
        public const ulong PageSize = 4096;
    }

    /// <summary>Hypercall status codes (result bits 15:0).</summary>
    public static class HvStatus
    {
        public const ushort Success = 0x0000;
        public const ushort InvalidHypercallCode = 0x0002;
        public const ushort InvalidHypercallInput = 0x0003;
        public const ushort InvalidAlignment = 0x0004;
        public const ushort InvalidParameter = 0x0005;
        public const ushort AccessDenied = 0x0006;
        public const ushort InvalidPartitionState = 0x0007;
        public const ushort OperationDenied = 0x0008;
        public const ushort InsufficientMemory = 0x000B;
        public const ushort InvalidPartitionId = 0x000D;
        public const ushort InvalidVpIndex = 0x000E;
        public const ushort VtlAlreadyEnabled = 0x0086;
    }

    /// <summary>The hypercall page as hostsim fills it (docs/vtl.md section 3): offsets of the
    /// three code sequences, as published in VsmCodePageOffsets (VtlCall bits 11:0, VtlReturn
    /// bits 23:12).</summary>
    public static class HvHypercallPage
    {
        public const uint HypercallOffset = 0x000;
        public const uint VtlCallOffset = 0x040;
        public const uint VtlReturnOffset = 0x080;
        public const int VtlCallOffsetShift = 0;
        public const int VtlReturnOffsetShift = 12;
        public const ulong OffsetMask = 0xFFF;
        public const ulong VsmCodePageOffsets = ((ulong)VtlCallOffset << VtlCallOffsetShift) | ((ulong)VtlReturnOffset << VtlReturnOffsetShift);
    }

    /// <summary>Register names used with Get/SetVpRegisters (docs/vtl.md section 10).</summary>
    public static class HvRegister
    {
        public const uint PendingEvent0 = 0x00010004;
        // general purpose registers (RSP is private per VTL, the others are shared)
        public const uint Rax = 0x00020000, Rcx = 0x00020001, Rdx = 0x00020002, Rbx = 0x00020003;
        public const uint Rsp = 0x00020004, Rbp = 0x00020005, Rsi = 0x00020006, Rdi = 0x00020007;
        public const uint R8 = 0x00020008, R15 = 0x0002000F;
        public const uint Rip = 0x00020010, Rflags = 0x00020011;
        public const uint Cr0 = 0x00040000, Cr2 = 0x00040001, Cr3 = 0x00040002, Cr4 = 0x00040003, Cr8 = 0x00040004;
        /// <summary>XCR0 (shared by the VTLs, like the XSAVE state it enables).</summary>
        public const uint Xfem = 0x00040005;
        public const uint Es = 0x00060000, Cs = 0x00060001, Ss = 0x00060002, Ds = 0x00060003, Fs = 0x00060004, Gs = 0x00060005;
        public const uint Ldtr = 0x00060006, Tr = 0x00060007;
        public const uint Idtr = 0x00070000, Gdtr = 0x00070001;
        public const uint Efer = 0x00080001, KernelGsBase = 0x00080002, ApicBase = 0x00080003, Pat = 0x00080004;
        public const uint SysenterCs = 0x00080005, SysenterEip = 0x00080006, SysenterEsp = 0x00080007;
        public const uint Star = 0x00080008, Lstar = 0x00080009, Cstar = 0x0008000A, Sfmask = 0x0008000B;
        public const uint TscAux = 0x0008007B;
        public const uint VpAssistPage = 0x00090013;
        public const uint VsmCodePageOffsets = 0x000D0002;
        public const uint VsmVpStatus = 0x000D0003;
        public const uint VsmPartitionStatus = 0x000D0004;
        public const uint VsmCapabilities = 0x000D0006;
        public const uint VsmPartitionConfig = 0x000D0007;
        public const uint CrInterceptControl = 0x000E0000;
        public const uint CrInterceptCr0Mask = 0x000E0001;
        public const uint CrInterceptCr4Mask = 0x000E0002;
    }

    /// <summary>Get/SetVpRegisters input (docs/vtl.md section 10): a 16-byte header, then the rep
    /// elements (Get: u32 names; Set: 32-byte name/value pairs); Get's output is one 16-byte value
    /// per element.</summary>
    public static class HvVpRegisters
    {
        public const int HeaderSize = 16;
        public const int VpIndexOffset = 8;
        public const int InputVtlOffset = 12;
        public const int GetElementSize = 4;
        public const int SetElementSize = 32;
        public const int SetValueOffset = 16;
        public const int ValueSize = 16;
    }

    /// <summary>The input-VTL byte of Get/SetVpRegisters and ModifyVtlProtectionMask.</summary>
    public static class HvInputVtl
    {
        public const byte TargetVtlMask = 0x0F;    // bits 3:0
        public const byte UseTargetVtl = 0x10;     // bit 4
        public const byte Reserved = 0xE0;         // bits 7:5
    }

    /// <summary>VsmPartitionConfig (a VTL's register configuring the VTLs below it).</summary>
    public static class HvPartitionConfig
    {
        public const ulong EnableVtlProtection = 1UL << 0;   // write-once
        public const int DefaultMaskShift = 1;               // bits 4:1
        public const ulong DefaultMaskField = 0xFUL << DefaultMaskShift;
        public const ulong ZeroMemoryOnReset = 1UL << 5;
        public const ulong DenyLowerVtlStartup = 1UL << 6;
    }

    /// <summary>VsmVpStatus: active VTL in bits 3:0, the set of enabled VTLs in bits 31:16.
    /// VsmPartitionStatus: enabled VTL set in bits 15:0, maximum VTL in bits 19:16.</summary>
    public static class HvVsmStatus
    {
        public const int VpEnabledVtlSetShift = 16;
        public const int PartitionMaximumVtlShift = 16;
    }

    /// <summary>Per-page protection of a lower VTL's memory (ModifyVtlProtectionMask map flags),
    /// as Linux and LVBS use them (the TLFS table lists the two execute bits swapped).</summary>
    public static class HvMapGpa
    {
        public const uint Read = 0x1;
        public const uint Write = 0x2;
        public const uint KernelExecute = 0x4;
        public const uint UserExecute = 0x8;
        public const uint All = 0xF;
        public const uint None = 0x0;

        // input: u64 partition id; u32 map flags; u8 input VTL; 3 reserved; then u64 page numbers
        public const int HeaderSize = 16;
        public const int MapFlagsOffset = 8;
        public const int InputVtlOffset = 12;
        public const int ElementSize = 8;
    }

    /// <summary>PendingEvent0 (an event a higher VTL makes pending for a lower one), first u64;
    /// the second is the exception parameter (CR2 of a #PF).</summary>
    public static class HvPendingEvent
    {
        public const ulong Pending = 1UL << 0;
        public const int TypeShift = 1;                      // bits 3:1
        public const ulong TypeField = 7UL << TypeShift;
        public const ulong TypeException = 0;
        public const ulong DeliverErrorCode = 1UL << 8;
        public const int VectorShift = 16;                   // bits 31:16
        public const int ErrorCodeShift = 32;                // bits 63:32
        /// <summary>Bits 7:4 and 15:9.</summary>
        public const ulong Reserved = 0xFEF0;
    }

    /// <summary>CrInterceptControl: which of a lower VTL's register writes are intercepted.</summary>
    public static class HvCrIntercept
    {
        public const ulong Cr0Write = 1UL << 0;
        public const ulong Cr4Write = 1UL << 1;
        public const ulong LstarWrite = 1UL << 6;
        public const ulong StarWrite = 1UL << 8;
        public const ulong CstarWrite = 1UL << 10;
        public const ulong ApicBaseWrite = 1UL << 12;
        public const ulong EferWrite = 1UL << 14;
        public const ulong GdtrWrite = 1UL << 15;
        public const ulong IdtrWrite = 1UL << 16;
        public const ulong LdtrWrite = 1UL << 17;
        public const ulong TrWrite = 1UL << 18;
        public const ulong SysenterCsWrite = 1UL << 19;
        public const ulong SysenterEipWrite = 1UL << 20;
        public const ulong SysenterEspWrite = 1UL << 21;
        public const ulong SfmaskWrite = 1UL << 22;
        public const ulong TscAuxWrite = 1UL << 23;
    }

    /// <summary>Secure intercept messages (docs/vtl.md section 11): a Hyper-V message (16-byte
    /// header, 240-byte payload) the host writes into the higher VTL's VP assist page.</summary>
    public static class HvMessage
    {
        public const uint TypeGpaIntercept = 0x80000001;
        public const uint TypeMsrIntercept = 0x80010001;
        public const uint TypeRegisterIntercept = 0x80010006;

        public const int Size = 256;
        public const int TypeOffset = 0;           // u32
        public const int PayloadSizeOffset = 4;    // u8
        public const int PayloadOffset = 16;

        // the intercept header (payload offsets)
        public const int HeaderVpIndex = 0;              // u32
        public const int HeaderInstructionLength = 4;    // u8 (bits 3:0)
        public const int HeaderAccessType = 5;           // u8: 0 read, 1 write, 2 execute
        public const int HeaderExecutionState = 6;       // u16
        public const int HeaderCs = 8;                   // 16-byte segment record
        public const int HeaderRip = 24;
        public const int HeaderRflags = 32;
        public const int HeaderSize = 40;

        public const byte AccessRead = 0, AccessWrite = 1, AccessExecute = 2;

        // execution state bits
        public const ushort StateCr0Pe = 1 << 2;
        public const ushort StateCr0Am = 1 << 3;
        public const ushort StateEferLma = 1 << 4;
        public const int StateVtlShift = 7;              // bits 10:7

        // GPA (memory) intercept body
        public const int GpaCacheType = 40;              // u32
        public const int GpaInstructionByteCount = 44;   // u8
        public const int GpaAccessInfo = 45;             // u8
        public const int GpaGva = 48;
        public const int GpaGpa = 56;
        public const int GpaInstructionBytes = 64;       // 16 bytes
        public const int GpaSize = 80;
        public const byte AccessInfoGvaValid = 1 << 0;
        public const byte AccessInfoGvaGpaValid = 1 << 1;
        public const uint CacheTypeWriteBack = 6;

        // register intercept body
        public const int RegisterIsMemoryOp = 40;        // u8
        public const int RegisterName = 44;              // u32
        public const int RegisterValue = 48;             // 16 bytes
        public const int RegisterSize = 64;

        // MSR intercept body
        public const int MsrNumber = 40;                 // u32
        public const int MsrRdx = 48;
        public const int MsrRax = 56;
        public const int MsrSize = 64;
    }

    /// <summary>The VP assist page: the VTL control area a higher VTL sees at offset 8.</summary>
    public static class HvVpAssist
    {
        public const uint VtlEntryReasonOffset = 8;    // u32: 1 VTL call, 2 interrupt, 3 intercept
        public const uint VinaStatusOffset = 12;       // u8
        public const uint VtlReturnRaxOffset = 16;     // u64
        public const uint VtlReturnRcxOffset = 24;     // u64
        public const uint EntryReasonVtlCall = 1;
        public const uint EntryReasonInterrupt = 2;
        public const uint EntryReasonIntercept = 3;
        /// <summary>The intercept message (a 256-byte Hyper-V message) a secure intercept delivers.</summary>
        public const uint InterceptMessageOffset = 112;
        /// <summary>VTL return control (RCX) bit 0: fast return, registers not restored.</summary>
        public const ulong VtlReturnFast = 1UL << 0;
    }

    /// <summary>VTLs and the inputs of EnablePartitionVtl / EnableVpVtl (docs/vtl.md section 6).</summary>
    public static class HvVtl
    {
        /// <summary>The highest VTL hostsim offers (VsmPartitionStatus maximum VTL).</summary>
        public const byte MaxVtl = 1;
        /// <summary>EnablePartitionVtl flags bit 0: enable MBEC for the target VTL.</summary>
        public const byte EnableMbec = 1 << 0;

        // EnablePartitionVtl input (16 bytes): u64 partition id; u8 target VTL; u8 flags; 6 reserved
        public const int PartitionInputSize = 16;
        public const int PartitionTargetVtlOffset = 8;
        public const int PartitionFlagsOffset = 9;

        // EnableVpVtl input (240 bytes): u64 partition id; u32 VP index; u8 target VTL; 3 reserved;
        // then the 224-byte initial context
        public const int VpVpIndexOffset = 8;
        public const int VpTargetVtlOffset = 12;
        public const int VpContextOffset = 16;
        public const int VpInputSize = VpContextOffset + ContextSize;

        // the initial VP context
        public const int ContextSize = 224;
        public const int ContextRip = 0, ContextRsp = 8, ContextRflags = 16;
        public const int ContextCs = 24, ContextDs = 40, ContextEs = 56, ContextFs = 72, ContextGs = 88, ContextSs = 104;
        public const int ContextTr = 120, ContextLdtr = 136, ContextIdtr = 152, ContextGdtr = 168;
        public const int ContextEfer = 184, ContextCr0 = 192, ContextCr3 = 200, ContextCr4 = 208, ContextPat = 216;
        /// <summary>A segment record: u64 base; u32 limit; u16 selector; u16 attributes.</summary>
        public const int SegmentSize = 16, SegmentBase = 0, SegmentLimit = 8, SegmentSelector = 12, SegmentAttributes = 14;
        /// <summary>A table record: 3 x u16 pad; u16 limit; u64 base.</summary>
        public const int TableLimit = 6, TableBase = 8;
        /// <summary>Segment attributes bits 11:8 are reserved (the descriptor's limit 19:16 sits there).</summary>
        public const ushort SegmentAttributesReserved = 0x0F00;
    }

    /// <summary>
    /// HekiGuest's extension hypercalls: NOT part of the Hyper-V TLFS, which has no call for it
    /// (docs/vtl.md section 17). Codes 0x8000-0x80FF, a range the TLFS does not assign; a host
    /// without the extension answers HV_STATUS_INVALID_HYPERCALL_CODE like for any unknown code.
    /// </summary>
    public static class HekiHvExtension
    {
        public const ushort First = 0x8000, Last = 0x80FF;
        /// <summary>Remove VTL1 (before a kexec): fast call from VTL1 only, RDX = the VTL0 RIP and
        /// R8 = the VTL0 RSP to resume at. The host zeroes every page VTL0 cannot read (VTL1's
        /// private memory), disables VTL1 for the partition and its VPs (protections, intercepts
        /// and VTL1's state go), and resumes VTL0 at RIP/RSP with RAX = the status (0). Refused
        /// with HV_STATUS_ACCESS_DENIED from VTL0 or when host userspace's policy forbids it.</summary>
        public const ushort RemoveVtl1 = 0x8001;
    }
}
