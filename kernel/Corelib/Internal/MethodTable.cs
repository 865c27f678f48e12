using System.Runtime.CompilerServices;

namespace Internal.Runtime;

// The type descriptor ilc emits for every type (NativeAOT .NET 10 layout). Fields after the
// vtable and interface map are 32-bit self-relative pointers in statically compiled code.
public unsafe struct MethodTable
{
    internal uint _uFlags;
    internal uint _uBaseSize;
    internal MethodTable* _relatedType;
    internal ushort _usNumVtableSlots;
    internal ushort _usNumInterfaces;
    internal uint _uHashCode;

    private const uint HasComponentSizeFlag = 0x80000000;
    private const uint HasDispatchMapFlag = 0x00040000;
    private const uint IsFinalizableFlag = 0x00100000;
    private const uint HasSealedVTableEntriesFlag = 0x00400000;
    private const uint IsGenericFlag = 0x02000000;
    private const uint KindMask = 0x00030000;

    [Intrinsic]
    public static extern MethodTable* Of<T>();

    public bool HasComponentSize => (_uFlags & HasComponentSizeFlag) != 0;
    public ushort ComponentSize => HasComponentSize ? (ushort)_uFlags : (ushort)0;
    public uint BaseSize => _uBaseSize;
    public ushort NumVtableSlots => _usNumVtableSlots;
    public ushort NumInterfaces => _usNumInterfaces;
    public ElementType ElementType => (ElementType)((_uFlags >> 26) & 0x1F);
    public bool IsInterface => ElementType == ElementType.Interface;
    public bool IsArray => ElementType == ElementType.Array || ElementType == ElementType.SzArray;
    public bool IsSzArray => ElementType == ElementType.SzArray;
    public bool IsValueType => ElementType < ElementType.Class;
    public bool IsCanonical => (_uFlags & KindMask) == 0;
    public bool IsParameterized => (_uFlags & KindMask) == 0x20000;
    public bool HasDispatchMap => (_uFlags & HasDispatchMapFlag) != 0;
    public bool IsFinalizable => (_uFlags & IsFinalizableFlag) != 0;
    public bool HasSealedVTableEntries => (_uFlags & HasSealedVTableEntriesFlag) != 0;
    public bool IsGeneric => (_uFlags & IsGenericFlag) != 0;

    // Base class for canonical types; for arrays and pointers this is the element type.
    public MethodTable* RelatedType => _relatedType;

    public MethodTable* BaseType
    {
        get
        {
            if (IsArray) return Of<System.Array>();
            if (!IsCanonical) return null;
            return _relatedType;
        }
    }

    public MethodTable* ArrayElementType => IsArray ? _relatedType : null;

    private byte* Self => (byte*)Unsafe.AsPointer(ref this);

    public nint* VTable => (nint*)(Self + sizeof(MethodTable));

    public MethodTable** InterfaceMap => (MethodTable**)(Self + sizeof(MethodTable) + 8 * _usNumVtableSlots);

    // Offset of the first optional relative-pointer field (TypeManager indirection).
    private uint OptionalFieldsStart => (uint)(sizeof(MethodTable) + 8 * _usNumVtableSlots + 8 * _usNumInterfaces);

    private static byte* FollowRelative(byte* field) => field + *(int*)field;

    public DispatchMap* DispatchMap
    {
        get
        {
            if (!HasDispatchMap) return null;
            // TypeManager indirection, writable data, then the dispatch map.
            return (DispatchMap*)FollowRelative(Self + OptionalFieldsStart + 8);
        }
    }

    private byte* SealedVirtualTable
    {
        get
        {
            uint offset = OptionalFieldsStart + 8;
            if (HasDispatchMap) offset += 4;
            if (IsFinalizable) offset += 4;
            return FollowRelative(Self + offset);
        }
    }

    public nint GetSealedVirtualSlot(int index) => (nint)FollowRelative(SealedVirtualTable + 4 * index);

    public int FindInterface(MethodTable* itf)
    {
        MethodTable** map = InterfaceMap;
        for (int i = 0; i < _usNumInterfaces; i++)
            if (map[i] == itf) return i;
        return -1;
    }
}

public enum ElementType : byte
{
    Unknown = 0x00, Void = 0x01, Boolean = 0x02, Char = 0x03, SByte = 0x04, Byte = 0x05,
    Int16 = 0x06, UInt16 = 0x07, Int32 = 0x08, UInt32 = 0x09, Int64 = 0x0A, UInt64 = 0x0B,
    IntPtr = 0x0C, UIntPtr = 0x0D, Single = 0x0E, Double = 0x0F, ValueType = 0x10,
    Nullable = 0x12, Class = 0x14, Interface = 0x15, SystemArray = 0x16, Array = 0x17,
    SzArray = 0x18, ByRef = 0x19, Pointer = 0x1A, FunctionPointer = 0x1B,
}

public unsafe struct DispatchMap
{
    public ushort StandardEntryCount;
    public ushort DefaultEntryCount;
    public ushort StandardStaticEntryCount;
    public ushort DefaultStaticEntryCount;

    public DispatchMapEntry* Entries => (DispatchMapEntry*)((byte*)Unsafe.AsPointer(ref this) + 8);
}

public struct DispatchMapEntry
{
    public ushort InterfaceIndex;
    public ushort InterfaceMethodSlot;
    public ushort ImplMethodSlot;
}
