using HekiGuest.Abi;
using HekiGuest.Platform;
using HekiGuest.Platform.Security;

namespace HekiGuest.Vtl1Monitor;

// The hand-over of the kernel's sealed section (boot-only VTL call 16, docs/vtl.md section 15):
// the section must be whole pages of VTL0 RAM outside the monitor; VTL1 hashes it itself and
// compares with the SHA-256 the build wrote into the image; every routine of the table must lie
// inside it. Then the routines are recorded, VTL0's registers the policy refers to are registered
// (PrivilegedWrites.Register) and the section's pages become read-only for VTL0: no write, no
// execute. From then on VTL0 asks VTL1 for every privileged write.
public static unsafe class SealedSection
{
    private struct RoutineTable
    {
        public fixed ulong Entries[(int)MonitorAbi.MaxSealedRoutines];
    }

    public static bool Taken;
    public static ulong Start, End;
    public static int RoutineCount;
    private static RoutineTable s_routines;

    public static long HandOver(ulong start, ulong length, ulong block)
    {
        if (Taken) return MonitorStatus.AlreadyDone;
        if ((start & 0xFFF) != 0 || length == 0 || (length & 0xFFF) != 0 || length > MonitorAbi.MaxSealedLength
            || !Vtl0Memory.Contains(start, length) || (block & 7) != 0 || !Vtl0Memory.Contains(block, MonitorAbi.HandOverSize))
            return MonitorStatus.InvalidArgument;
        byte* want = (byte*)block;
        ulong table = *(ulong*)(want + 32), count = *(ulong*)(want + 40);
        if (count == 0 || count > MonitorAbi.MaxSealedRoutines || (table & 7) != 0 || !Vtl0Memory.Contains(table, count * 8))
            return MonitorStatus.InvalidArgument;

        byte* digest = stackalloc byte[32];
        Sha256.Hash((byte*)start, length, digest);
        int diff = 0;
        for (int i = 0; i < 32; i++) diff |= digest[i] ^ want[i];
        var c = Machine.Console;
        if (diff != 0)
        {
            c.Write("denied VTL0 hand-over of the sealed section ").Hex(start).Write('-').Hex(start + length)
                .Line(": its SHA-256 is not the digest the build wrote into the image");
            return MonitorStatus.Denied;
        }
        for (ulong i = 0; i < count; i++)
        {
            ulong r = ((ulong*)table)[i];
            if (r < start || r >= start + length)
            {
                c.Write("denied VTL0 hand-over of the sealed section: routine ").UDec(i).Write(" at ").Hex(r).Line(" lies outside it");
                return MonitorStatus.Denied;
            }
        }
        if (!PrivilegedWrites.Register()) return MonitorStatus.InvalidArgument;
        // From now on VTL0's own WRMSR of the syscall MSRs, EFER and APIC_BASE and its descriptor
        // table loads are intercepted too and checked against the same policy.
        if (HvClient.GetRegister(0, HvRegister.CrInterceptControl, out ulong control) != HvStatus.Success
            || HvClient.SetRegister(0, HvRegister.CrInterceptControl, control | PrivilegedWrites.InterceptedWrites) != HvStatus.Success)
            MonitorMain.Stop("the host refused the MSR and descriptor-table intercepts", control);
        ushort st = HvClient.ProtectVtl0(start, start + length, HvMapGpa.Read);
        if (st != HvStatus.Success) MonitorMain.Stop("ModifyVtlProtectionMask refused for the sealed section, status", st);
        for (ulong i = 0; i < count; i++) s_routines.Entries[i] = ((ulong*)table)[i];
        RoutineCount = (int)count;
        Start = start;
        End = start + length;
        Taken = true;
        c.Write("sealed section ").Hex(start).Write('-').Hex(End).Write(" (").UDec(length).Write(" bytes, SHA-256 ");
        for (int i = 0; i < 32; i++) c.HexDigits(digest[i], 2);
        c.Write(", ").UDec(count).Line(" routines) taken: VTL0 may read it, not write or execute it");
        return MonitorStatus.Success;
    }

    /// <summary>After an execute denial at <paramref name="gpa"/>: one line saying, from the routine
    /// table recorded at the hand-over, whether VTL0 called a sealed routine or jumped elsewhere
    /// into the section (nothing when the fetch was outside it).</summary>
    public static void ExplainFetch(ulong gpa)
    {
        if (!Taken || gpa < Start || gpa >= End) return;
        var c = Machine.Console;
        for (int i = 0; i < RoutineCount; i++)
        {
            if (s_routines.Entries[i] == gpa)
            {
                c.Write("  the sealed section is VTL1's: VTL0 called sealed routine ").UDec((ulong)i).Line(" (privileged writes are VTL calls now)");
                return;
            }
        }
        c.Write("  the sealed section is VTL1's: VTL0 jumped to ").Hex(gpa).Line(", not the entry of a sealed routine");
    }
}
