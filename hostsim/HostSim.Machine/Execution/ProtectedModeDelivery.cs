using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// One delivery attempt through a 32-bit IDT in protected mode (paging on or off), after the
/// Intel SDM vol. 3 sections 6.10-6.13 and the INT n operation in vol. 2: 8-byte gates (32-bit and
/// 16-bit interrupt and trap gates), the gate DPL check for software interrupts, a not-present
/// gate (#NP), the handler's code segment from the GDT or LDT, a stack switch to SS0:ESP0 (or
/// SS1/SS2) from the TSS when the handler's privilege is higher, then SS:ESP (on a stack switch),
/// EFLAGS, CS, EIP and the error code pushed as dwords (32-bit gate) or words (16-bit gate).
/// A fault found on the way is returned (nothing committed); the caller applies the double- and
/// triple-fault rules. A task gate switches tasks (<see cref="Cpu.Cpu.TrySwitchTaskThroughGate"/>:
/// the old task saves the return EIP, the new task runs nested and gets the error code on its
/// stack). From virtual-8086 mode (EFLAGS.VM = 1) the handler must be a DPL 0 non-conforming code
/// segment (else #GP(selector)); the frame on the SS0:ESP0 stack is GS, FS, DS, ES, SS, ESP,
/// EFLAGS, CS, EIP (+ error code), and DS, ES, FS, GS are loaded with null selectors.
/// </summary>
internal static class ProtectedModeDelivery
{
    private const byte InvalidTss = 10, SegmentNotPresent = 11;
    private const byte TaskGate = 0x5, Interrupt16 = 0x6, Trap16 = 0x7, Interrupt32 = 0xE, Trap32 = 0xF;

    public static GuestFault? TryDeliver(Cpu.Cpu cpu, GuestFault fault, ulong returnEip, bool software, ulong flagsImage, out bool inNewTask)
    {
        inNewTask = false;
        uint ext = software ? 0u : 1u;
        uint idtError = (uint)fault.Vector * 8 + 2 + ext;

        // The gate.
        if ((ulong)fault.Vector * 8 + 7 > cpu.Idtr.Limit) return GuestFault.GP(idtError);
        Span<byte> buffer = stackalloc byte[8];
        if (cpu.TryReadLinear((cpu.Idtr.Base + (ulong)fault.Vector * 8) & 0xFFFF_FFFF, buffer, supervisor: true) is { } gateFault) return gateFault;
        ulong gate = BinaryPrimitives.ReadUInt64LittleEndian(buffer);
        int type = (int)((gate >> 40) & 0x1F);          // with the S bit: system descriptors only
        int gateDpl = (int)((gate >> 45) & 3);
        bool gatePresent = (gate & (1UL << 47)) != 0;
        if (type is not (TaskGate or Interrupt16 or Trap16 or Interrupt32 or Trap32)) return GuestFault.GP(idtError);
        if (software && gateDpl < cpu.Cpl) return GuestFault.GP(idtError);
        if (!gatePresent) return new GuestFault(SegmentNotPresent, true, idtError, 0);
        if (type == TaskGate)
        {
            uint? errorCode = fault.HasErrorCode ? fault.ErrorCode : null;
            return cpu.TrySwitchTaskThroughGate((ushort)(gate >> 16), returnEip, flagsImage, errorCode, external: !software, out inNewTask);
        }
        bool gate32 = type is Interrupt32 or Trap32;
        ushort selector = (ushort)(gate >> 16);
        ulong offset = (gate & 0xFFFF) | (gate32 ? ((gate >> 48) & 0xFFFF) << 16 : 0);

        // The handler's code segment.
        uint selError = (uint)(selector & ~3) + ext;
        if ((selector & ~3) == 0) return GuestFault.GP(ext);
        if (ReadDescriptor(cpu, selector, buffer, selError) is { } csFault) return csFault;
        var cs = SegmentRegister.FromDescriptor(selector, BinaryPrimitives.ReadUInt64LittleEndian(buffer));
        bool code = (cs.Attributes & 0x18) == 0x18;     // S = 1 and type bit 3 (code)
        bool conforming = (cs.Attributes & 0x4) != 0;
        if (!code || cs.Dpl > cpu.Cpl) return GuestFault.GP(selError);
        bool fromV86 = cpu.V86Mode;
        if (fromV86 && (conforming || cs.Dpl != 0)) return GuestFault.GP(selError);   // v86 interrupts go to PL 0 only
        if (!cs.Present) return new GuestFault(SegmentNotPresent, true, selError, 0);
        int newCpl = conforming ? cpu.Cpl : cs.Dpl;
        if (offset > cs.Limit) return GuestFault.GP(ext);

        // The stack: SSn:ESPn from the TSS on a privilege change, else the current one.
        var oldSs = cpu.Segments[Cpu.Cpu.SS];
        ulong oldEsp = cpu.ReadGpr(Cpu.Cpu.RSP) & 0xFFFF_FFFF;
        SegmentRegister ss = oldSs;
        ulong esp = oldSs.DefaultBig ? oldEsp : oldEsp & 0xFFFF;
        bool stackSwitch = newCpl < cpu.Cpl;
        if (stackSwitch)
        {
            var tr = cpu.Tr;
            int trType = tr.Attributes & 0x1F;
            bool tss32 = trType is 0x9 or 0xB;
            if (!tss32 && trType is not (0x1 or 0x3)) return new GuestFault(InvalidTss, true, (uint)(tr.Selector & ~3) + ext, 0);
            uint entry = tss32 ? 4u + (uint)newCpl * 8 : 2u + (uint)newCpl * 4;
            uint width = tss32 ? 8u : 4u;
            if (entry + width - 1 > tr.Limit) return new GuestFault(InvalidTss, true, (uint)(tr.Selector & ~3) + ext, 0);
            if (cpu.TryReadLinear((tr.Base + entry) & 0xFFFF_FFFF, buffer[..(int)width], supervisor: true) is { } tssFault) return tssFault;
            ushort newSs = tss32 ? BinaryPrimitives.ReadUInt16LittleEndian(buffer[4..]) : BinaryPrimitives.ReadUInt16LittleEndian(buffer[2..]);
            esp = tss32 ? BinaryPrimitives.ReadUInt32LittleEndian(buffer) : BinaryPrimitives.ReadUInt16LittleEndian(buffer);
            uint ssError = (uint)(newSs & ~3) + ext;
            if ((newSs & ~3) == 0) return new GuestFault(InvalidTss, true, ext, 0);
            if ((newSs & 3) != newCpl) return new GuestFault(InvalidTss, true, ssError, 0);
            if (ReadDescriptor(cpu, newSs, buffer, ssError, InvalidTss) is { } ssFault) return ssFault;
            ss = SegmentRegister.FromDescriptor(newSs, BinaryPrimitives.ReadUInt64LittleEndian(buffer));
            bool writableData = (ss.Attributes & 0x1A) == 0x12;   // S = 1, data, writable
            if (!writableData || ss.Dpl != newCpl) return new GuestFault(InvalidTss, true, ssError, 0);
            if (!ss.Present) return GuestFault.SS(ssError);
            if (!ss.DefaultBig) esp &= 0xFFFF;
        }

        // The frame, lowest address first: error code, EIP, CS, EFLAGS, then ESP, SS on a switch.
        int slot = gate32 ? 4 : 2;
        Span<byte> frame = stackalloc byte[40];
        int n = 0;
        if (fault.HasErrorCode) Put(frame, ref n, slot, fault.ErrorCode);
        Put(frame, ref n, slot, returnEip);
        Put(frame, ref n, slot, cpu.Segments[Cpu.Cpu.CS].Selector);
        Put(frame, ref n, slot, flagsImage);
        if (stackSwitch)
        {
            Put(frame, ref n, slot, oldEsp);
            Put(frame, ref n, slot, oldSs.Selector);
            if (fromV86)
            {
                Put(frame, ref n, slot, cpu.Segments[Cpu.Cpu.ES].Selector);
                Put(frame, ref n, slot, cpu.Segments[Cpu.Cpu.DS].Selector);
                Put(frame, ref n, slot, cpu.Segments[Cpu.Cpu.FS].Selector);
                Put(frame, ref n, slot, cpu.Segments[Cpu.Cpu.GS].Selector);
            }
        }
        ulong spMask = ss.DefaultBig ? 0xFFFF_FFFFUL : 0xFFFFUL;
        ulong newEsp = (esp - (ulong)n) & spMask;
        uint stackError = stackSwitch ? (uint)(ss.Selector & ~3) + ext : ext;
        if (!StackFits(ss, newEsp, n)) return GuestFault.SS(stackError);
        if (cpu.TryWriteLinear((ss.Base + newEsp) & 0xFFFF_FFFF, frame[..n], supervisor: newCpl == 0) is { } pushFault) return pushFault;

        // Commit (VM first: the segment loads below are protected-mode ones).
        cpu.Rflags &= ~(Flag.TF | Flag.NT | Flag.RF | Flag.VM);
        if (fromV86)
        {
            for (int seg = Cpu.Cpu.ES; seg <= Cpu.Cpu.GS; seg++)
                if (seg is not (Cpu.Cpu.CS or Cpu.Cpu.SS)) cpu.SetSegment(seg, new SegmentRegister());
        }
        if (stackSwitch) cpu.SetSegment(Cpu.Cpu.SS, ss);
        cs.Selector = (ushort)((selector & ~3) | newCpl);
        cpu.SetSegment(Cpu.Cpu.CS, cs);
        ulong rsp = cpu.ReadGpr(Cpu.Cpu.RSP);
        cpu.WriteGpr(Cpu.Cpu.RSP, ss.DefaultBig ? newEsp : (rsp & ~0xFFFFUL) | newEsp);
        cpu.Rip = offset;
        if (type is Interrupt32 or Interrupt16) cpu.Rflags &= ~Flag.IF;
        return null;
    }

    /// <summary>Reads the descriptor <paramref name="selector"/> names from the GDT or LDT, or
    /// returns the fault for a selector beyond the table limit (#GP, or #TS for a TSS stack selector).</summary>
    private static GuestFault? ReadDescriptor(Cpu.Cpu cpu, ushort selector, Span<byte> buffer, uint error, byte limitVector = GuestFault.GeneralProtection)
    {
        bool ldt = (selector & 4) != 0;
        ulong tableBase = ldt ? cpu.Ldtr.Base : cpu.Gdtr.Base;
        ulong limit = ldt ? (cpu.Ldtr.Present ? cpu.Ldtr.Limit : 0) : cpu.Gdtr.Limit;
        if ((ulong)(selector & ~7) + 7 > limit) return new GuestFault(limitVector, true, error, 0);
        return cpu.TryReadLinear((tableBase + (ulong)(selector & ~7)) & 0xFFFF_FFFF, buffer, supervisor: true);
    }

    private static void Put(Span<byte> frame, ref int n, int slot, ulong value)
    {
        if (slot == 4) BinaryPrimitives.WriteUInt32LittleEndian(frame[n..], (uint)value);
        else BinaryPrimitives.WriteUInt16LittleEndian(frame[n..], (ushort)value);
        n += slot;
    }

    /// <summary>The segment limit check for the pushed bytes [newEsp, newEsp + length): expand-up
    /// segments need the last byte within the limit, expand-down ones every byte above it.</summary>
    private static bool StackFits(SegmentRegister ss, ulong newEsp, int length)
    {
        ulong last = newEsp + (ulong)length - 1;
        bool expandDown = (ss.Attributes & 0x4) != 0;
        if (!expandDown) return last <= ss.Limit;
        ulong upper = ss.DefaultBig ? 0xFFFF_FFFFUL : 0xFFFFUL;
        return newEsp > ss.Limit && last <= upper;
    }
}
