using System.Runtime;

namespace Internal.Runtime;

// The allocator: bump allocation over a list of regions. There is no GC, so nothing is ever
// freed; exhausting every region is a fail-fast (OutOfMemory), never a null return.
public static unsafe class Heap
{
    private const int MaxRegions = 16;
    private static Region s_r0, s_r1, s_r2, s_r3, s_r4, s_r5, s_r6, s_r7,
        s_r8, s_r9, s_r10, s_r11, s_r12, s_r13, s_r14, s_r15;
    private static int s_regionCount;
    private static int s_current;
    private static ulong s_allocated;
    private static ulong s_capacity;
    private static ulong s_objects;

    private struct Region { public byte* Next; public byte* End; }

    private static Region* Regions
    {
        get { fixed (Region* p = &s_r0) return p; }
    }

    public static ulong BytesAllocated => s_allocated;
    public static ulong Capacity => s_capacity;
    public static ulong ObjectCount => s_objects;
    public static int RegionCount => s_regionCount;

    // Adds [start, start+size) to the heap. Returns false if the table is full.
    public static bool AddRegion(byte* start, ulong size)
    {
        if (s_regionCount >= MaxRegions || size < 64) return false;
        byte* aligned = (byte*)(((ulong)start + 15) & ~15UL);
        ulong lost = (ulong)(aligned - start);
        if (lost >= size) return false;
        Region* r = Regions + s_regionCount++;
        r->Next = aligned;
        r->End = start + size;
        s_capacity += size - lost;
        return true;
    }

    public static ulong FreeBytes
    {
        get
        {
            ulong free = 0;
            for (int i = s_current; i < s_regionCount; i++)
                free += (ulong)(Regions[i].End - Regions[i].Next);
            return free;
        }
    }

    // Zeroed, page-aligned memory (page tables, stacks). Wastes up to a page on alignment.
    public static byte* AllocatePages(int count)
    {
        byte* p = Allocate((ulong)count * 4096 + 4096);
        return (byte*)(((ulong)p + 4095) & ~4095UL);
    }

    // Zeroed, 16-byte aligned memory of the given size.
    public static byte* Allocate(ulong size)
    {
        size = (size + 15) & ~15UL;
        while (s_current < s_regionCount)
        {
            Region* r = Regions + s_current;
            if ((ulong)(r->End - r->Next) >= size)
            {
                byte* p = r->Next;
                r->Next += size;
                s_allocated += size;
                s_objects++;
                RuntimeImports.MemZero(p, (nuint)size);
                return p;
            }
            // Too small for this request: move on only when the region is nearly used up,
            // so one large request does not abandon a mostly free region.
            if ((ulong)(r->End - r->Next) < 4096) s_current++;
            else
            {
                for (int i = s_current + 1; i < s_regionCount; i++)
                {
                    Region* o = Regions + i;
                    if ((ulong)(o->End - o->Next) >= size)
                    {
                        byte* p = o->Next;
                        o->Next += size;
                        s_allocated += size;
                        s_objects++;
                        RuntimeImports.MemZero(p, (nuint)size);
                        return p;
                    }
                }
                break;
            }
        }
        RuntimeFailure.Fail(FailureKind.OutOfMemory, "heap exhausted");
        return null;
    }
}
