namespace Internal.Runtime;

// Resolves an interface call from the call site's dispatch cell and the object's type, by
// walking the type's dispatch maps up the inheritance chain (no caching: every call resolves).
public static unsafe class InterfaceDispatch
{
    private const nint CacheMask = 0x3;
    private const nint IsInterfacePointer = 0x1;
    private const nint IsIndirectedRelative = 0x2;
    private const nint IsRelative = 0x3;

    public static int Resolutions;

    // A cell is {stub, cache}; cells of one call target are followed by a terminator cell whose
    // stub is 0 and whose cache holds the interface slot in its low 16 bits.
    public static nint Resolve(MethodTable* type, nint* cell)
    {
        Resolutions++;
        nint cache = cell[1];
        MethodTable* itf;
        switch (cache & CacheMask)
        {
            case IsInterfacePointer:
                itf = (MethodTable*)(cache & ~CacheMask);
                break;
            case IsRelative:
                itf = (MethodTable*)(((nint)(cell + 1) + (int)cache) & ~CacheMask);
                break;
            case IsIndirectedRelative:
                itf = *(MethodTable**)(((nint)(cell + 1) + (int)cache) & ~CacheMask);
                break;
            default:
                RuntimeFailure.Fail(FailureKind.Unsupported, "interface dispatch cell with a cache");
                return 0;
        }
        nint* c = cell;
        int guard = 0;
        while (c[0] != 0)
        {
            c += 2;
            if (++guard > 4096) RuntimeFailure.Fail(FailureKind.InvalidProgram, "dispatch cell without terminator");
        }
        if ((c[1] >> 16 & 0xFFFF) != 0) RuntimeFailure.Fail(FailureKind.Unsupported, "dispatch cell kind");
        ushort slot = (ushort)c[1];
        return FindImplementation(type, itf, slot);
    }

    public static nint FindImplementation(MethodTable* type, MethodTable* itf, ushort slot)
    {
        for (MethodTable* cur = type; cur != null; cur = cur->BaseType)
        {
            int index = cur->FindInterface(itf);
            if (index < 0) continue;
            DispatchMap* map = cur->DispatchMap;
            if (map == null) continue;
            DispatchMapEntry* e = map->Entries;
            for (int i = 0; i < map->StandardEntryCount; i++, e++)
            {
                if (e->InterfaceIndex != index || e->InterfaceMethodSlot != slot) continue;
                if (e->ImplMethodSlot < type->NumVtableSlots) return type->VTable[e->ImplMethodSlot];
                return cur->GetSealedVirtualSlot(e->ImplMethodSlot - cur->NumVtableSlots);
            }
        }
        RuntimeFailure.Fail(FailureKind.Unsupported, "interface method not implemented (default interface methods are unsupported)");
        return 0;
    }
}
