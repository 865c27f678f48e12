using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Internal.Runtime.CompilerHelpers;

// Brings a module's statics to life before any managed code touches them: allocates the
// objects behind reference-type statics (copying data ilc preinitialized), then runs the eager
// static constructors and module initializers. The boot code calls heki_runtime_init once,
// with the bounds of the __modules section (pointers to ReadyToRun headers).
internal static unsafe class StartupCodeHelpers
{
    private const uint ReadyToRunSignature = 0x00525452; // "RTR"
    private const int GCStaticRegion = 201;
    private const int EagerCctor = 205;
    private const int ModuleInitializerList = 213;
    private const nint Uninitialized = 0x1;
    private const nint HasPreInitializedData = 0x2;
    private const nint FlagsMask = 0x3;

    public static int GcStaticBlocks;
    public static int EagerConstructors;

    [StructLayout(LayoutKind.Sequential)]
    private struct ReadyToRunHeader
    {
        public uint Signature;
        public ushort MajorVersion;
        public ushort MinorVersion;
        public uint Flags;
        public ushort NumberOfSections;
        public byte EntrySize;
        public byte EntryType;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ModuleInfoRow
    {
        public int SectionId;
        public int Flags;
        public byte* Start;
        public byte* End;
    }

    private static byte* ReadRelative32(void* address) => (byte*)address + *(int*)address;

    [UnmanagedCallersOnly(EntryPoint = "heki_runtime_init")]
    private static void Initialize(void** modulesStart, void** modulesEnd, byte* earlyHeap, ulong earlyHeapSize)
    {
        Heap.AddRegion(earlyHeap, earlyHeapSize);
        for (void** m = modulesStart; m < modulesEnd; m++)
        {
            ReadyToRunHeader* header = (ReadyToRunHeader*)*m;
            if (header == null) continue;
            if (header->Signature != ReadyToRunSignature)
                RuntimeFailure.Fail(FailureKind.InvalidProgram, "module header without the RTR signature");
            if (header->MajorVersion != 16)
                RuntimeFailure.Fail(FailureKind.InvalidProgram, "ReadyToRun header version is not 16 (compiler mismatch)");
            InitializeStatics(header);
        }
        for (void** m = modulesStart; m < modulesEnd; m++)
        {
            ReadyToRunHeader* header = (ReadyToRunHeader*)*m;
            if (header == null) continue;
            RunRelativeFunctionList(header, EagerCctor);
            RunRelativeFunctionList(header, ModuleInitializerList);
        }
    }

    private static ModuleInfoRow* FindSection(ReadyToRunHeader* header, int id)
    {
        byte* rows = (byte*)(header + 1);
        for (int i = 0; i < header->NumberOfSections; i++)
        {
            ModuleInfoRow* row = (ModuleInfoRow*)(rows + i * header->EntrySize);
            if (row->SectionId == id) return row;
        }
        return null;
    }

    private static void InitializeStatics(ReadyToRunHeader* header)
    {
        ModuleInfoRow* row = FindSection(header, GCStaticRegion);
        if (row == null) return;
        for (byte* entry = row->Start; entry < row->End; entry += 4)
        {
            nint* block = (nint*)ReadRelative32(entry);
            nint blockAddress = (nint)ReadRelative32(block);
            if ((blockAddress & Uninitialized) == 0) continue;
            MethodTable* staticsType = (MethodTable*)(blockAddress & ~FlagsMask);
            object obj = RuntimeImports.NewObject(staticsType);
            byte* objAddress = *(byte**)Unsafe.AsPointer(ref obj);
            if ((blockAddress & HasPreInitializedData) != 0)
            {
                byte* data = ReadRelative32((int*)block + 1);
                RuntimeImports.Memmove(objAddress + 8, data, staticsType->BaseSize - 16);
            }
            *block = (nint)objAddress;
            GcStaticBlocks++;
        }
    }

    private static void RunRelativeFunctionList(ReadyToRunHeader* header, int id)
    {
        ModuleInfoRow* row = FindSection(header, id);
        if (row == null) return;
        for (byte* entry = row->Start; entry < row->End; entry += 4)
        {
            ((delegate*<void>)ReadRelative32(entry))();
            if (id == EagerCctor) EagerConstructors++;
        }
    }
}
