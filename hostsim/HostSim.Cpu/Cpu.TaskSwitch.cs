namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Hardware task switching in 32-bit protected mode (Intel SDM vol. 3 chapter 8, JMP/CALL/IRET
/// and INT n in vol. 2): JMP FAR and CALL FAR to an available 32-bit TSS descriptor or to a task
/// gate, IRET with EFLAGS.NT = 1 back to the previous task (the back link), and interrupts and
/// exceptions through a task gate in the IDT (<see cref="TrySwitchTaskThroughGate"/>, called by the
/// machine's delivery). The switch: new TSS present (#NP) with limit &gt;= 67H (#TS), busy bits
/// (JMP/CALL/INT to a busy TSS: #GP; IRET to a non-busy one: #TS), the dynamic state (EIP, EFLAGS,
/// GPRs, segment selectors) saved in the current 32-bit TSS, the back link and NT for CALL and
/// interrupts, TR loaded, CR0.TS set, DR7's local enables cleared, then CR3 (with CR0.PG), LDTR,
/// EFLAGS, EIP, GPRs and the segment registers loaded from the new TSS with the descriptor checks
/// of SDM table 8-2. The control-register and descriptor-table hooks are asked about the CR3, TR
/// and LDTR loads before anything changes (a refusal is #GP(0)). A fault before the state is committed is raised in the old task (the
/// instruction did nothing); one found while loading the new task's LDTR or segments is raised
/// in the new task's context (its EIP, like a trap), as the SDM specifies. Not modelled: 16-bit
/// TSSes (types 1 and 3: #GP(selector) for JMP/CALL/task gates), the T (debug trap) bit, PAE
/// PDPTE loads on the CR3 switch (read by the walker on each translation). In IA-32e mode task
/// switches do not exist: JMP/CALL to a TSS or task gate is #GP(selector), IRET with NT = 1 #GP(0).
/// </summary>
public sealed partial class Cpu
{
    private enum TaskSwitchKind { Jump, Call, Iret, Interrupt }

    private const int TssMinimumLimit = 0x67;
    private const byte InvalidTssVector = 10, NotPresentVector = 11;
    private const int TypeTaskGate = 0x05, TypeTss32Available = 0x09, TypeTss32Busy = 0x0B, TypeTss16Available = 0x01, TypeTss16Busy = 0x03;

    // Set while the new task's state is being loaded: a fault then belongs to the new task, and
    // Raise reports it like a trap (the switching instruction completed; the return address is
    // the new task's EIP).
    private bool _inNewTask;

    private static GuestFault InvalidTss(uint error) => new(InvalidTssVector, true, error, 0);

    private static GuestFault NotPresent(uint error) => new(NotPresentVector, true, error, 0);

    /// <summary>JMP FAR / CALL FAR through <paramref name="sel"/>: when it names a TSS or a task
    /// gate (outside real and virtual-8086 mode), switches tasks and returns true; false for
    /// anything else (the caller's code-segment path). In IA-32e mode those descriptors #GP.</summary>
    private bool TryFarTransferToTask(ushort sel, bool call)
    {
        if (RealMode || V86Mode || (sel & ~3) == 0) return false;
        ulong desc = ReadDescriptor(sel);
        if (((desc >> 44) & 1) != 0) return false;                 // a code or data segment
        int type = (int)(desc >> 40) & 0xF;
        if (type is not (TypeTaskGate or TypeTss32Available or TypeTss32Busy or TypeTss16Available or TypeTss16Busy)) return false;
        uint selError = sel & 0xFFFCu;
        if (LongModeActive) Raise(GuestFault.GP(selError));        // IA-32e mode has no task switches (and type 9/B is a 64-bit TSS)
        int dpl = (int)(desc >> 45) & 3;
        bool present = ((desc >> 47) & 1) != 0;
        if (dpl < Cpl || dpl < (sel & 3)) Raise(GuestFault.GP(selError));
        ushort tssSel = sel;
        if (type == TypeTaskGate)
        {
            if (!present) Raise(NotPresent(selError));
            tssSel = (ushort)(desc >> 16);
            desc = ReadTssDescriptor(tssSel, GuestFault.GeneralProtection, 0);
            type = (int)(desc >> 40) & 0x1F;                       // S = 0 included: a code or data segment is not a TSS
            present = ((desc >> 47) & 1) != 0;
        }
        if (type != TypeTss32Available) Raise(GuestFault.GP(tssSel & 0xFFFCu));   // busy, 16-bit or no TSS
        if (!present) Raise(NotPresent(tssSel & 0xFFFCu));
        SwitchTask(tssSel, desc, call ? TaskSwitchKind.Call : TaskSwitchKind.Jump, Rip, Rflags, 0);
        _inNewTask = false;
        return true;
    }

    /// <summary>IRET with NT = 1 in protected mode: back to the task named by the current TSS's link field.</summary>
    private void TaskReturn()
    {
        if (LongModeActive) Raise(GuestFault.GP());
        ushort link = (ushort)ReadSystem(Tr.Base, 2);
        ulong desc = ReadTssDescriptor(link, InvalidTssVector, 0);
        int type = (int)(desc >> 40) & 0x1F;
        if (type != TypeTss32Busy) Raise(InvalidTss(link & 0xFFFCu));
        if (((desc >> 47) & 1) == 0) Raise(NotPresent(link & 0xFFFCu));
        SwitchTask(link, desc, TaskSwitchKind.Iret, Rip, Rflags & ~Flag.NT, 0);
        _inNewTask = false;
    }

    /// <summary>
    /// An interrupt or exception through a task gate (SDM vol. 2 INT n, TASK-GATE; vol. 3 6.12.2):
    /// the gate's TSS selector must name an available 32-bit TSS in the GDT (#GP(selector + EXT),
    /// #NP if not present); the old task saves <paramref name="returnEip"/> and
    /// <paramref name="flagsImage"/>; the new task is entered nested (back link, NT) and
    /// <paramref name="errorCode"/>, if any, is pushed on its stack. Returns null on success, or the
    /// fault to deliver; <paramref name="inNewTask"/> says whether the switch had already been
    /// committed (the fault then belongs to the new task, whose EIP is the return address).
    /// </summary>
    public GuestFault? TrySwitchTaskThroughGate(ushort tssSelector, ulong returnEip, ulong flagsImage, uint? errorCode, bool external, out bool inNewTask)
    {
        uint ext = external ? 1u : 0u;
        inNewTask = false;
        _inNewTask = false;
        try
        {
            ulong desc = ReadTssDescriptor(tssSelector, GuestFault.GeneralProtection, ext);
            int type = (int)(desc >> 40) & 0x1F;
            if (type != TypeTss32Available) Raise(GuestFault.GP((tssSelector & 0xFFFCu) + ext));
            if (((desc >> 47) & 1) == 0) Raise(NotPresent((tssSelector & 0xFFFCu) + ext));
            SwitchTask(tssSelector, desc, TaskSwitchKind.Interrupt, returnEip, flagsImage, ext);
            if (errorCode is { } code)
            {
                // pushed on the new task's stack at the stack's width (SDM 6.12.2)
                int size = Segments[SS].DefaultBig ? 4 : 2;
                ulong sp = (Gpr[RSP] - (ulong)size) & SpMask;
                Write((_segBase[SS] + sp) & 0xFFFF_FFFF, size, code);
                SetSp(sp);
            }
            return null;
        }
        catch (GuestFaultException e)
        {
            inNewTask = _inNewTask;
            return e.Fault;
        }
        finally
        {
            _inNewTask = false;
        }
    }

    /// <summary>Reads a TSS descriptor from the GDT: a selector with TI = 1 or beyond the GDT
    /// limit is <paramref name="vector"/>(selector + EXT).</summary>
    private ulong ReadTssDescriptor(ushort sel, byte vector, uint ext)
    {
        ulong off = (ulong)(sel & ~7);
        if ((sel & 4) != 0 || off + 7 > Gdtr.Limit) Raise(new GuestFault(vector, true, (sel & 0xFFFCu) + ext, 0));
        return ReadSystem(Gdtr.Base + off, 8);
    }

    private void SwitchTask(ushort newSel, ulong newDesc, TaskSwitchKind kind, ulong savedEip, ulong savedFlags, uint ext)
    {
        var newTss = SegmentRegister.FromDescriptor(newSel, newDesc);
        if (newTss.Limit < TssMinimumLimit) Raise(InvalidTss((newSel & 0xFFFCu) + ext));
        var oldTr = Tr;
        int oldType = oldTr.Attributes & 0x1F;
        if (oldType is not (TypeTss32Available or TypeTss32Busy) || oldTr.Limit < 0x5F)
            Raise(InvalidTss((oldTr.Selector & 0xFFFCu) + ext));   // the current task's state cannot be saved (16-bit or no TSS)

        // The new task's state, read with the old CR3 (faults here belong to the old task).
        Span<uint> image = stackalloc uint[TssMinimumLimit / 4 + 1];
        for (int i = 0; i < image.Length; i++) image[i] = (uint)ReadSystem((newTss.Base + (ulong)i * 4) & 0xFFFF_FFFF, 4);

        // The loads an intercepting host sees for MOV CR3, LTR and LLDT are offered to its hooks
        // first: a refusal is #GP(0) in the old task, with nothing changed.
        uint newCr3 = image[0x1C / 4];
        ushort newLdt = (ushort)image[0x60 / 4];
        if ((Cr0 & 0x8000_0000) != 0 && newCr3 != Cr3 && ControlRegisterHook != null && !ControlRegisterHook.AllowWrite(this, 3, Cr3, newCr3))
            Raise(GuestFault.GP());
        if (DescriptorTableHook != null && (!DescriptorTableHook.AllowLoad(this, DescriptorTableLoad.Tr, 0, 0, newSel)
            || !DescriptorTableHook.AllowLoad(this, DescriptorTableLoad.Ldtr, 0, 0, newLdt)))
            Raise(GuestFault.GP());

        // Save the current task's dynamic state (EIP, EFLAGS, GPRs, segment selectors).
        ulong oldBase = oldTr.Base;
        WriteSystem((oldBase + 0x20) & 0xFFFF_FFFF, 4, (uint)savedEip);
        WriteSystem((oldBase + 0x24) & 0xFFFF_FFFF, 4, (uint)savedFlags);
        for (int r = 0; r < 8; r++) WriteSystem((oldBase + 0x28 + (ulong)r * 4) & 0xFFFF_FFFF, 4, (uint)Gpr[r]);
        for (int s = 0; s < 6; s++) WriteSystem((oldBase + 0x48 + (ulong)s * 4) & 0xFFFF_FFFF, 4, Segments[s].Selector);

        // Busy bits and the back link.
        if (kind is TaskSwitchKind.Jump or TaskSwitchKind.Iret) SetTssBusy(oldTr.Selector, false);
        if (kind is TaskSwitchKind.Call or TaskSwitchKind.Interrupt)
        {
            WriteSystem(newTss.Base & 0xFFFF_FFFF, 2, oldTr.Selector);
            image[0] = oldTr.Selector;
        }
        if (kind != TaskSwitchKind.Iret) SetTssBusy(newSel, true);
        newTss.Attributes |= 2;
        Tr = newTss;

        // From here on the switch is committed: faults belong to the new task.
        _inNewTask = true;
        Cr0 |= 8;                                                   // TS: the new task's first x87/SSE use traps
        Dr[7] &= ~0x155UL;                                          // L0-L3, LE: local breakpoints end with the task
        if ((Cr0 & 0x8000_0000) != 0 && newCr3 != Cr3) Cr3 = newCr3;
        ulong eflags = (image[0x24 / 4] & (Flag.Writable | Flag.VM | Flag.VIF | Flag.VIP)) | Flag.Reserved1;
        if (kind is TaskSwitchKind.Call or TaskSwitchKind.Interrupt) eflags |= Flag.NT;
        Rflags = eflags;
        Rip = image[0x20 / 4];
        for (int r = 0; r < 8; r++) Gpr[r] = image[0x28 / 4 + r];
        ushort ldtSel = newLdt;
        Span<ushort> sels = stackalloc ushort[6];
        for (int s = 0; s < 6; s++) sels[s] = (ushort)image[0x48 / 4 + s];
        bool v86 = (eflags & Flag.VM) != 0;

        // Selectors first (what the new task's fault handler sees if a descriptor is bad), with a
        // provisional CS at the selector's privilege so that such a fault is taken at the new CPL.
        Ldtr = new SegmentRegister { Selector = ldtSel };
        for (int s = 0; s < 6; s++) Segments[s] = new SegmentRegister { Selector = sels[s] };
        int cpl = v86 ? 3 : sels[CS] & 3;
        Segments[CS] = new SegmentRegister { Selector = sels[CS], Attributes = (ushort)(0x409B | (cpl << 5)), Limit = 0xFFFF_FFFF };
        UpdateMode();
        SyncTranslationContext();                                   // CR3 and the CPL may have changed
        RefreshDebugState();

        LoadTaskLdt(ldtSel, ext);
        if (v86)
        {
            EnterV86Segments(sels);
        }
        else
        {
            LoadTaskCode(sels[CS], ext);
            LoadTaskStack(sels[SS], ext);
            LoadTaskData(DS, sels[DS], ext);
            LoadTaskData(ES, sels[ES], ext);
            LoadTaskData(FS, sels[FS], ext);
            LoadTaskData(GS, sels[GS], ext);
        }
        UpdateMode();
        SyncTranslationContext();
    }

    private void SetTssBusy(ushort sel, bool busy)
    {
        ulong la = Gdtr.Base + (ulong)(sel & ~7);
        ulong d = ReadSystem(la, 8);
        d = busy ? d | (2UL << 40) : d & ~(2UL << 40);
        WriteSystem(la, 8, d);
    }

    private ulong ReadTaskDescriptor(ushort sel, uint ext)
    {
        bool ldt = (sel & 4) != 0;
        ulong tableBase = ldt ? Ldtr.Base : Gdtr.Base;
        ulong limit = ldt ? (Ldtr.Present ? Ldtr.Limit : 0) : Gdtr.Limit;
        if ((ulong)(sel & ~7) + 7 > limit) Raise(InvalidTss((sel & 0xFFFCu) + ext));
        return ReadSystem((tableBase + (ulong)(sel & ~7)) & 0xFFFF_FFFF, 8);
    }

    private void LoadTaskLdt(ushort sel, uint ext)
    {
        if ((sel & ~3) == 0) return;                                // a null LDTR is allowed
        uint error = (sel & 0xFFFCu) + ext;
        if ((sel & 4) != 0 || (ulong)(sel & ~7) + 7 > Gdtr.Limit) Raise(InvalidTss(error));
        ulong d = ReadSystem((Gdtr.Base + (ulong)(sel & ~7)) & 0xFFFF_FFFF, 8);
        var ldt = SegmentRegister.FromDescriptor(sel, d);
        if ((ldt.Attributes & 0x1F) != 0x02) Raise(InvalidTss(error));
        if (!ldt.Present) Raise(InvalidTss(error));
        Ldtr = ldt;
    }

    private void LoadTaskCode(ushort sel, uint ext)
    {
        uint error = (sel & 0xFFFCu) + ext;
        if ((sel & ~3) == 0) Raise(InvalidTss(error));
        var cs = SegmentRegister.FromDescriptor(sel, ReadTaskDescriptor(sel, ext));
        int rpl = sel & 3;
        bool code = (cs.Attributes & 0x18) == 0x18;
        bool conforming = (cs.Attributes & 0x4) != 0;
        if (!code || (conforming ? cs.Dpl > rpl : cs.Dpl != rpl)) Raise(InvalidTss(error));
        if (!cs.Present) Raise(NotPresent(error));
        if (cs.Long && (Efer & 0x400) == 0) cs.Attributes &= unchecked((ushort)~0x2000);   // L is reserved outside IA-32e mode
        cs.Attributes = (ushort)((cs.Attributes & ~0x60) | (rpl << 5));
        Segments[CS] = cs;
        UpdateMode();
    }

    private void LoadTaskStack(ushort sel, uint ext)
    {
        uint error = (sel & 0xFFFCu) + ext;
        if ((sel & ~3) == 0) Raise(InvalidTss(error));
        var ss = SegmentRegister.FromDescriptor(sel, ReadTaskDescriptor(sel, ext));
        bool writableData = (ss.Attributes & 0x1A) == 0x12;
        if (!writableData || ss.Dpl != Cpl || (sel & 3) != Cpl) Raise(InvalidTss(error));
        if (!ss.Present) Raise(GuestFault.SS(error));
        Segments[SS] = ss;
        UpdateMode();
    }

    private void LoadTaskData(int seg, ushort sel, uint ext)
    {
        if ((sel & ~3) == 0) return;                                // null: unusable until loaded
        uint error = (sel & 0xFFFCu) + ext;
        var s = SegmentRegister.FromDescriptor(sel, ReadTaskDescriptor(sel, ext));
        bool system = (s.Attributes & 0x10) == 0;
        bool code = (s.Attributes & 0x08) != 0;
        bool readable = !code || (s.Attributes & 0x02) != 0;
        bool conformingCode = code && (s.Attributes & 0x04) != 0;
        if (system || !readable || (!conformingCode && (s.Dpl < Cpl || s.Dpl < (sel & 3)))) Raise(InvalidTss(error));
        if (!s.Present) Raise(NotPresent(error));
        Segments[seg] = s;
        UpdateMode();
    }
}
