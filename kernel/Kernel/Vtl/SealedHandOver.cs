using HekiGuest.Abi;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Drivers;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.Vtl;

// The hand-over of the sealed section to VTL1 (boot-only VTL call 16, docs/vtl.md section 15):
// the section's range, and a block with the SHA-256 the build wrote into the image
// (kernel/Platform/seal-digest.sh) and the routine table. VTL1 hashes the section itself; once it
// accepted, VTL0 can no longer execute the section, so every privileged write is routed to VTL1
// (SealedOps.Route). Anything else (refused, no monitor) leaves the sealed routines in use.
public static unsafe class SealedHandOver
{
    public static long Status = MonitorStatus.NoMonitor;
    public static ulong Start, End;
    public static int Routines;

    public static void Run(TextOut c)
    {
        if (!VtlCall.MonitorRunning) return;
        Start = LinkerSymbols.SealedStart();
        End = LinkerSymbols.SealedEnd();
        ulong* table = Native.SealedRoutineTable();
        int n = 0;
        while (table[n] != 0) n++;
        Routines = n;
        byte* block = Heap.Allocate(MonitorAbi.HandOverSize);
        byte* digest = Native.SealedDigest();
        for (int i = 0; i < 32; i++) block[i] = digest[i];
        *(ulong*)(block + 32) = (ulong)table;
        *(ulong*)(block + 40) = (ulong)n;
        Status = VtlCall.Call(MonitorCall.HandOverSealed, Start, End - Start, (ulong)block, out _, out _);
        c.Write("monitor: sealed section ").Hex(Start).Write('-').Hex(End).Write(" (").UDec(End - Start).Write(" bytes, sha256 ");
        for (int i = 0; i < 32; i++) c.HexDigits(digest[i], 2);
        if (Status != MonitorStatus.Success)
        {
            c.Write(") NOT handed to VTL1: status ").Dec(Status).Line("; the sealed routines stay in use");
            return;
        }
        c.Line(") handed to VTL1");
        SealedOps.Route(new MonitorPrivilegedWriter());
    }
}
