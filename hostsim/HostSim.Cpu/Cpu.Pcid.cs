namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Process-context identifiers and INVPCID (SDM vol. 3 4.10.1 and 4.10.4, vol. 2 INVPCID). With
/// CR4.PCIDE, CR3[11:0] is the current PCID and MOV to CR3 with bit 63 set may keep that PCID's
/// translations. The core's TLBs are not tagged by PCID: it keeps no translation across a CR3
/// change (a change of CR3, PCID bits included, flushes them), and every INVPCID type flushes at
/// least what the SDM requires (type 0 the page, types 1-3 everything). The architecture allows
/// a processor to drop any cached translation at any time, so this is exact for every guest: what
/// a guest may not rely on is a stale translation surviving, never a fresh one missing.
/// </summary>
public sealed partial class Cpu
{
    public const ulong Cr4Pcide = 1UL << 17;

    /// <summary>MOV to CR3 with CR4.PCIDE: bit 63 = do not invalidate the new PCID's translations.</summary>
    public const ulong Cr3NoFlush = 1UL << 63;

    private void Invpcid(DecodedOp d)
    {
        if (!_hasInvpcid) Raise(GuestFault.UD());
        RequireCpl0();
        ulong type = GetReg(d.R0, Bitness == 64 ? 8 : 4);
        ulong la = Ea(d);
        ulong descLo = Read(la, 8);
        ulong address = Read(la + 8, 8);
        ulong pcid = descLo & 0xFFF;
        if (type > 3 || (descLo >> 12) != 0) Raise(GuestFault.GP());
        bool pcide = (Cr4 & Cr4Pcide) != 0;
        switch (type)
        {
            case 0:
                if ((!pcide && pcid != 0) || (ulong)((long)(address << 16) >> 16) != address) Raise(GuestFault.GP());
                FlushTlbPage(address);
                break;
            case 1:
                if (!pcide && pcid != 0) Raise(GuestFault.GP());
                FlushTlb();
                break;
            default:
                FlushTlb();
                break;
        }
    }
}
