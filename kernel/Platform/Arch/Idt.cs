namespace HekiGuest.Platform.Arch;

// The interrupt descriptor table: 64-bit interrupt gates for the 32 exception vectors.
public static unsafe class Idt
{
    private const int Entries = 256;
    private static ulong* s_table;

    public static void Install(ushort codeSelector)
    {
        if (s_table == null) s_table = (ulong*)Internal.Runtime.Heap.Allocate(Entries * 16);
        ulong* stubs = LinkerSymbols.IsrTable();
        for (int v = 0; v < 32; v++)
        {
            int ist = v == 8 ? Gdt.IstDoubleFault : v == 2 ? Gdt.IstNmi : v == 18 ? Gdt.IstMachineCheck : 0;
            SetGate(v, stubs[v], codeSelector, ist);
        }
        DescriptorTablePointer p;
        p.Limit = Entries * 16 - 1;
        p.Base = (ulong)s_table;
        SealedOps.LoadIdt(&p);
    }

    public static ulong Base => (ulong)s_table;

    public static ulong GateHandler(int vector) =>
        (s_table[vector * 2] & 0xFFFF) | ((s_table[vector * 2] >> 48) << 16) | (s_table[vector * 2 + 1] << 32);

    public static int GateIst(int vector) => (int)((s_table[vector * 2] >> 32) & 7);
    public static bool GatePresent(int vector) => (s_table[vector * 2] & (1UL << 47)) != 0;

    // type 0xE = 64-bit interrupt gate, present, DPL 0; ist = 0 means the current stack.
    public static void SetGate(int vector, ulong handler, ushort selector, int ist)
    {
        ulong low = (handler & 0xFFFF)
            | ((ulong)selector << 16)
            | ((ulong)(ist & 7) << 32)
            | (0x8EUL << 40)
            | (((handler >> 16) & 0xFFFF) << 48);
        s_table[vector * 2] = low;
        s_table[vector * 2 + 1] = handler >> 32;
    }
}
