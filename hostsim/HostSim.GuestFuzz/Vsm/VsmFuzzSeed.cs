using System.Buffers.Binary;
using System.Diagnostics;
using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.GuestFuzz.Vsm;

/// <summary>
/// One seed of the VSM fuzzer (`--vsm`, README): a <see cref="VsmLabMachine"/> with VTL1 enabled,
/// then a sequence of steps from whichever VTL the VP is in: random VSM hypercalls (every call
/// code, random input values, rep counts and start indexes, GPAs aligned, unaligned, near a page
/// end or outside RAM, input blocks built from the real layouts and then mutated: partition ids,
/// VP indexes, input-VTL bytes, register names and values, protection masks, page numbers), VTL
/// calls and returns with random control values, random reads and writes of guest memory, and
/// the register writes VTL1 can intercept. Whatever the guest does, the host must not throw and
/// every step must end within its budget and wall time.
/// </summary>
internal static class VsmFuzzSeed
{
    private const long StepBudget = 5_000;
    private static readonly ushort[] Codes =
    [
        HvCall.ModifyVtlProtectionMask, HvCall.EnablePartitionVtl, HvCall.EnableVpVtl, HvCall.VtlCall, HvCall.VtlReturn,
        HvCall.GetVpRegisters, HvCall.SetVpRegisters, HvCall.TranslateVirtualAddress,
    ];
    private static readonly uint[] Names =
    [
        HvRegister.PendingEvent0, HvRegister.Rax, HvRegister.Rsp, HvRegister.Rip, HvRegister.Rflags, HvRegister.Cr0, HvRegister.Cr2,
        HvRegister.Cr3, HvRegister.Cr4, HvRegister.Cs, HvRegister.Ss, HvRegister.Ldtr, HvRegister.Tr, HvRegister.Idtr, HvRegister.Gdtr,
        HvRegister.Efer, HvRegister.Pat, HvRegister.Lstar, HvRegister.Sfmask, HvRegister.TscAux, HvRegister.VpAssistPage,
        HvRegister.VsmVpStatus, HvRegister.VsmPartitionStatus, HvRegister.VsmPartitionConfig, HvRegister.CrInterceptControl,
        HvRegister.CrInterceptCr0Mask, HvRegister.CrInterceptCr4Mask, 0x00050005, 0xFFFFFFFF,
    ];
    private static readonly ulong[] Pages =
    [
        VsmLabMachine.Pml4, VsmLabMachine.Pd, VsmLabMachine.Vtl1Pml4, VsmLabMachine.Idt, VsmLabMachine.Gdt, VsmLabMachine.Handlers,
        VsmLabMachine.Vtl0Code, VsmLabMachine.Vtl1Code, VsmLabMachine.Vtl0StackTop - 0x1000, VsmLabMachine.Vtl1StackTop - 0x1000,
        VsmLabMachine.HypercallPage, VsmLabMachine.InputPage, VsmLabMachine.OutputPage, VsmLabMachine.AssistPage, 0x150000, 0x250000,
    ];

    public static VsmSeedResult Run(long seed, int steps, TimeSpan seedTimeout)
    {
        var random = new SeedRandom(seed);
        var result = new VsmSeedResult(seed);
        var clock = Stopwatch.StartNew();
        VsmLabMachine? lab = null;
        try
        {
            lab = new VsmLabMachine(mbec: random.Chance(50));
            for (int i = 0; i < steps; i++)
            {
                if (clock.Elapsed > seedTimeout)
                {
                    result.Failure = $"hang: seed past {seedTimeout.TotalSeconds:0.#} s after {i} steps";
                    break;
                }
                int vtl = lab.Host.CurrentVtl;
                var outcome = lab.RunSnippet(a => Step(lab, random, a, result), StepBudget, TimeSpan.FromSeconds(2));
                result.Steps++;
                result.StepsInVtl1 += vtl;
                if (outcome.Kind == MachineStopKind.Timeout)
                {
                    result.Failure = $"hang: step {i} past its wall time ({outcome.Summary})";
                    break;
                }
                if (outcome.Kind == MachineStopKind.GuestExit && lab.Vm.DebugExit.Value == VsmLabMachine.SnippetExit && result.LastWasHypercall && lab.Host.CurrentVtl == vtl)
                {
                    result.CountStatus((ushort)lab.Cpu.ReadGpr(15));
                }
                if (outcome.Kind == MachineStopKind.TripleFault)
                {
                    result.TripleFaults++;
                    break;
                }
            }
            result.Intercepts = lab.Host.InterceptCount;
            result.VtlSwitches = lab.Host.VtlEventCounts.GetValueOrDefault(HostSim.Vsm.VsmVtlEvent.VtlCall) + lab.Host.VtlEventCounts.GetValueOrDefault(HostSim.Vsm.VsmVtlEvent.VtlReturn);
            result.ProtectionChanges = lab.Host.ProtectionChanges;
        }
        catch (Exception e)
        {
            result.Failure = $"host exception {e.GetType().Name}: {e.Message} at guest rip 0x{lab?.Cpu.Rip ?? 0:x}\n{e.StackTrace}";
        }
        finally
        {
            lab?.Dispose();
        }
        return result;
    }

    /// <summary>One random step: its code goes before the snippet's debug-exit.</summary>
    private static void Step(VsmLabMachine lab, SeedRandom r, Assembler a, VsmSeedResult result)
    {
        result.LastWasHypercall = false;
        int kind = r.Next(100);
        if (kind < 65)
        {
            Hypercall(lab, r, a);
            result.LastWasHypercall = true;
            result.Hypercalls++;
        }
        else if (kind < 77)
        {
            // a VTL call or return sequence with a random control value
            a.mov(rcx, r.Chance(70) ? (ulong)r.Next(2) : r.NextU64());
            a.mov(r11, VsmLabMachine.HypercallPage + (r.Chance(50) ? HvHypercallPage.VtlCallOffset : HvHypercallPage.VtlReturnOffset));
            a.call(r11);
        }
        else if (kind < 89)
        {
            // guest memory: a read or write of a page VTL1 may have protected
            ulong at = r.Pick(Pages) + (ulong)(r.Next(512) * 8);
            a.mov(rsi, at);
            if (r.Chance(50)) a.mov(rbx, __qword_ptr[rsi]);
            else a.mov(__qword_ptr[rsi], rbx);
        }
        else
        {
            RegisterWrite(lab, r, a);
        }
    }

    private static void RegisterWrite(VsmLabMachine lab, SeedRandom r, Assembler a)
    {
        switch (r.Next(4))
        {
            case 0:
                a.mov(rbx, lab.Cpu.Cr4 ^ (1UL << r.Pick(new[] { 7, 18, 20, 21, 9 })));
                a.mov(AssemblerRegisters.cr4, rbx);
                break;
            case 1:
                a.mov(rbx, lab.Cpu.Cr0 ^ (1UL << r.Pick(new[] { 16, 18, 1, 5 })));
                a.mov(AssemblerRegisters.cr0, rbx);
                break;
            case 2:
                // reload the same GDT/IDT (an intercepted load changes nothing either way)
                a.sub(rsp, 16);
                if (r.Chance(50)) { a.sgdt(__[rsp]); a.lgdt(__[rsp]); } else { a.sidt(__[rsp]); a.lidt(__[rsp]); }
                a.add(rsp, 16);
                break;
            default:
                uint msr = r.Pick(new uint[] { 0xC000_0082, 0xC000_0081, 0xC000_0084, 0xC000_0103, 0xC000_0080, 0x1B });
                ulong value = msr == 0xC000_0080 ? lab.Cpu.Efer : msr == 0x1B ? lab.Cpu.ApicBase : r.NextU64() & 0x0000_7FFF_FFFF_FFFFUL;
                a.mov(ecx, msr);
                a.mov(eax, (uint)(value & 0xFFFF_FFFF));
                a.mov(edx, (uint)(value >> 32));
                a.wrmsr();
                break;
        }
    }

    private static void Hypercall(VsmLabMachine lab, SeedRandom r, Assembler a)
    {
        ushort code = r.Chance(90) ? r.Pick(Codes) : (ushort)r.Next(0x10000);
        int reps = r.Chance(80) ? 1 + r.Next(4) : r.Next(0x1000);
        bool rep = code is HvCall.ModifyVtlProtectionMask or HvCall.GetVpRegisters or HvCall.SetVpRegisters ? r.Chance(90) : r.Chance(10);
        ulong input = code;
        if (rep) input |= (ulong)reps << HvHypercallInput.RepCountShift;
        if (rep && r.Chance(15)) input |= (ulong)r.Next(reps + 1) << HvHypercallInput.RepStartShift;
        if (r.Chance(5)) input |= HvHypercallInput.Fast;
        if (r.Chance(5)) input |= (ulong)r.Next(4) << HvHypercallInput.VariableHeaderShift;
        if (r.Chance(3)) input |= 1UL << r.Pick(new[] { 27, 31, 44, 47, 60, 63 });

        ulong inputGpa = VsmLabMachine.InputPage + (r.Chance(85) ? 0 : r.Chance(50) ? 0xFF0UL : (ulong)r.Next(0x1000) & ~7UL);
        ulong outputGpa = VsmLabMachine.OutputPage;
        if (r.Chance(5)) inputGpa = r.Pick(new[] { inputGpa | 4, VsmLabMachine.MemorySize, r.NextU64(), r.Pick(Pages) });
        if (r.Chance(5)) outputGpa = r.Pick(new[] { outputGpa + 2, VsmLabMachine.MemorySize - 8, r.NextU64(), r.Pick(Pages) });
        if (inputGpa + 0x1000 <= VsmLabMachine.MemorySize && inputGpa >= VsmLabMachine.InputPage && inputGpa < VsmLabMachine.InputPage + 0x1000)
        {
            WriteInput(lab, r, code, reps, inputGpa);
        }
        if (lab.Host.CurrentVtl == 1 && !lab.Host.Partition.Vtl0Protections.Enabled && r.Chance(20))
        {
            // steer towards enforcement: VTL1 enables VTL protection (a valid default mask)
            input = HvCall.SetVpRegisters | 1UL << HvHypercallInput.RepCountShift;
            inputGpa = VsmLabMachine.InputPage;
            var b = lab.Vm.Memory.Slice(inputGpa, 48);
            b.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
            BinaryPrimitives.WriteUInt32LittleEndian(b[8..], HvCall.VpSelf);
            BinaryPrimitives.WriteUInt32LittleEndian(b[16..], HvRegister.VsmPartitionConfig);
            ulong mask = r.Pick(new ulong[] { 0xF, 0xD, 0x5, 0x1, 0x7, 0xB });
            BinaryPrimitives.WriteUInt64LittleEndian(b[32..], HvPartitionConfig.EnableVtlProtection | mask << HvPartitionConfig.DefaultMaskShift);
        }
        a.mov(rcx, input);
        a.mov(rdx, inputGpa);
        a.mov(r8, outputGpa);
        a.mov(r11, VsmLabMachine.HypercallPage);
        a.call(r11);
    }

    /// <summary>An input block with the call's real layout, then mutated.</summary>
    private static void WriteInput(VsmLabMachine lab, SeedRandom r, ushort code, int reps, ulong gpa)
    {
        int room = (int)(0x1000 - (gpa & 0xFFF));
        var b = lab.Vm.Memory.Slice(gpa, room);
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, r.Chance(90) ? HvCall.PartitionSelf : r.NextU64());
        switch (code)
        {
            case HvCall.ModifyVtlProtectionMask:
                if (room < 16) return;
                uint[] masks = [0, 1, 3, 4, 5, 7, 8, 9, 0xB, 0xD, 0xF];
                BinaryPrimitives.WriteUInt32LittleEndian(b[8..], r.Chance(90) ? r.Pick(masks) : (uint)r.NextU64());
                b[12] = InputVtl(r);
                for (int i = 0; i < reps && 16 + i * 8 + 8 <= room; i++)
                {
                    ulong page = r.Chance(85) ? r.Pick(Pages) >> 12 : r.Chance(50) ? (ulong)r.Next(0x400) : r.NextU64();
                    BinaryPrimitives.WriteUInt64LittleEndian(b[(16 + i * 8)..], page);
                }
                break;
            case HvCall.GetVpRegisters or HvCall.SetVpRegisters:
                if (room < 16) return;
                BinaryPrimitives.WriteUInt32LittleEndian(b[8..], r.Chance(90) ? HvCall.VpSelf : (uint)r.Next(3));
                b[12] = InputVtl(r);
                int size = code == HvCall.GetVpRegisters ? 4 : 32;
                for (int i = 0; i < reps && 16 + (i + 1) * size <= room; i++)
                {
                    var e = b[(16 + i * size)..];
                    uint name = r.Chance(95) ? r.Pick(Names) : (uint)r.NextU64();
                    BinaryPrimitives.WriteUInt32LittleEndian(e, name);
                    if (size == 32)
                    {
                        if (r.Chance(3)) e[4 + r.Next(12)] = 1;
                        BinaryPrimitives.WriteUInt128LittleEndian(e[16..], Value(lab, r, name));
                    }
                }
                break;
            case HvCall.EnablePartitionVtl:
                if (room < 16) return;
                b[8] = (byte)r.Next(3);
                b[9] = (byte)r.Next(4);
                break;
            case HvCall.EnableVpVtl:
                if (room < HvVtl.VpInputSize) return;
                BinaryPrimitives.WriteUInt32LittleEndian(b[8..], HvCall.VpSelf);
                b[12] = 1;
                for (int i = 0; i < 8; i++) b[16 + r.Next(HvVtl.ContextSize)] = r.NextByte();
                break;
        }
    }

    private static byte InputVtl(SeedRandom r) =>
        r.Chance(85) ? (r.Chance(50) ? (byte)0 : HvInputVtl.UseTargetVtl) : r.Chance(50) ? (byte)(HvInputVtl.UseTargetVtl | (uint)r.Next(16)) : r.NextByte();

    /// <summary>A value for <paramref name="name"/>: mostly one close to what is loaded now.</summary>
    private static UInt128 Value(VsmLabMachine lab, SeedRandom r, uint name)
    {
        var cpu = lab.Cpu;
        if (r.Chance(10)) return ((UInt128)r.NextU64() << 64) | r.NextU64();
        if (r.Chance(10)) return r.NextU64();
        ulong flip = r.Chance(50) ? 1UL << r.Next(64) : 0;
        return name switch
        {
            HvRegister.Rip => (ulong)VsmLabMachine.Vtl0Code ^ (flip & 0xFFF),
            HvRegister.Cr0 => cpu.Cr0 ^ flip,
            HvRegister.Cr3 => cpu.Cr3 ^ (flip & 0xFFFF),
            HvRegister.Cr4 => cpu.Cr4 ^ flip,
            HvRegister.Efer => cpu.Efer ^ flip,
            HvRegister.PendingEvent0 => 1 | (r.Chance(50) ? HvPendingEvent.DeliverErrorCode : 0) | ((ulong)(uint)r.Next(40) << 16) | flip,
            HvRegister.VsmPartitionConfig => (uint)r.Next(0x80) | flip,
            HvRegister.CrInterceptControl => (r.NextU64() & 0xFFFFFF) | flip,
            HvRegister.CrInterceptCr0Mask or HvRegister.CrInterceptCr4Mask => r.NextU64(),
            HvRegister.Gdtr => ((UInt128)cpu.Gdtr.Base << 64) | ((UInt128)cpu.Gdtr.Limit << 48),
            HvRegister.Idtr => ((UInt128)cpu.Idtr.Base << 64) | ((UInt128)cpu.Idtr.Limit << 48),
            _ => r.NextU64() ^ flip,
        };
    }
}
