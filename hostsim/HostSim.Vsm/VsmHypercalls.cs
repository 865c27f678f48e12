using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// VMCALL/VMMCALL under the VSM profile: the TLFS calling convention (docs/vtl.md section 4).
/// #UD from real mode, from CPL &gt; 0 and before the hypercall page is enabled. 64-bit mode:
/// input value in RCX, input and output GPAs (memory form) or the two fast inputs in RDX and R8,
/// result in RAX. Other modes: input value EDX:EAX, EBX:ECX and EDI:ESI, result EDX:EAX. Checks
/// in order: reserved input bits (3), memory-form GPA alignment (4), GPA outside RAM (5), then the
/// call code: EnablePartitionVtl and EnableVpVtl (<see cref="VtlHypercalls"/>), every other code
/// HV_STATUS_INVALID_HYPERCALL_CODE (2). Input values 0x11 and 0x12 (the VTL sequences) come
/// before those checks and answer with a VTL switch or #UD, never a status.
/// </summary>
public sealed class VsmHypercalls(VsmHost host, SyntheticMsrs msrs, VtlHypercalls vtl, ProtectionHypercall protection, VpRegisterHypercalls registers) : IHypercallHandler
{
    private const ulong Cr0ProtectionEnable = 1;
    private const int R8 = 8;

    public long Calls { get; private set; }

    /// <summary>The last input value decoded (for tests and traces).</summary>
    public HypercallInput? LastInput { get; private set; }

    public GuestFault? Hypercall(Cpu.Cpu cpu, bool isVmmcall)
    {
        if ((cpu.Cr0 & Cr0ProtectionEnable) == 0 || cpu.Cpl != 0 || !msrs.HypercallsEnabled(host.CurrentVtl))
        {
            return GuestFault.UD();
        }
        Calls++;
        bool wide = cpu.Bitness == 64;
        ulong value = wide ? cpu.ReadGpr(Cpu.Cpu.RCX) : Pair(cpu, Cpu.Cpu.RDX, Cpu.Cpu.RAX);
        ulong inputGpa = wide ? cpu.ReadGpr(Cpu.Cpu.RDX) : Pair(cpu, Cpu.Cpu.RBX, Cpu.Cpu.RCX);
        ulong outputGpa = wide ? cpu.ReadGpr(R8) : Pair(cpu, Cpu.Cpu.RDI, Cpu.Cpu.RSI);
        var vp = host.Partition.Vps[VsmHost.Vcpu];
        if ((ushort)value is HvCall.VtlCall or HvCall.VtlReturn && HypercallInput.TryDecode(value, out var switchInput) == HvStatus.Success)
        {
            // the VTL sequences (64-bit code): the control value is in RAX, RDX/R8 are not GPAs,
            // and the answer is a switch or #UD, never a status in RAX
            LastInput = switchInput;
            if (!wide || switchInput != new HypercallInput(switchInput.Code, false, 0, 0, 0)) return GuestFault.UD();
            return switchInput.Code == HvCall.VtlCall ? vtl.VtlCall(cpu, vp) : vtl.VtlReturn(cpu, vp, cpu.ReadGpr(Cpu.Cpu.RAX));
        }
        ulong result = Dispatch(cpu, vp, value, inputGpa, outputGpa);
        if (wide)
        {
            cpu.WriteGpr(Cpu.Cpu.RAX, result);
        }
        else
        {
            cpu.WriteGpr(Cpu.Cpu.RAX, (uint)result);
            cpu.WriteGpr(Cpu.Cpu.RDX, result >> 32);
        }
        return null;
    }

    private ulong Dispatch(Cpu.Cpu cpu, VirtualProcessorVtls vp, ulong value, ulong inputGpa, ulong outputGpa)
    {
        ushort status = HypercallInput.TryDecode(value, out var input);
        if (status != HvStatus.Success) return HypercallInput.Result(status, 0);
        LastInput = input;
        if (!input.Fast)
        {
            if (!IsAligned(inputGpa) || !IsAligned(outputGpa)) return HypercallInput.Result(HvStatus.InvalidAlignment, 0);
            if (!host.IsRamPage(inputGpa & HvMsr.PageNumberMask) || !host.IsRamPage(outputGpa & HvMsr.PageNumberMask))
            {
                return HypercallInput.Result(HvStatus.InvalidParameter, 0);
            }
        }
        if (input.Code == HekiHvExtension.RemoveVtl1)
        {
            // HekiGuest's extension (docs/vtl.md section 17); on success the CPU is back in VTL0,
            // whose RAX receives the status below
            return HypercallInput.Result(vtl.RemoveVtl1(cpu, vp, input, inputGpa, outputGpa), 0);
        }
        bool known = input.Code is HvCall.EnablePartitionVtl or HvCall.EnableVpVtl or HvCall.ModifyVtlProtectionMask
            or HvCall.GetVpRegisters or HvCall.SetVpRegisters;
        if (!known) return HypercallInput.Result(HvStatus.InvalidHypercallCode, 0);
        // the host reads the input page and writes the output page for the caller: only what the
        // caller's VTL may itself read and write there
        if (!input.Fast && (!host.CurrentVtlMay(inputGpa, write: false) || (input.Code == HvCall.GetVpRegisters && !host.CurrentVtlMay(outputGpa, write: true))))
        {
            return HypercallInput.Result(HvStatus.AccessDenied, 0);
        }
        (status, int reps) = input.Code switch
        {
            HvCall.EnablePartitionVtl => (vtl.EnablePartitionVtl(vp, input, inputGpa), 0),
            HvCall.EnableVpVtl => (vtl.EnableVpVtl(vp, input, inputGpa), 0),
            HvCall.ModifyVtlProtectionMask => protection.Modify(cpu, vp, input, inputGpa),
            HvCall.GetVpRegisters => registers.Get(cpu, vp, input, inputGpa, outputGpa),
            _ => registers.Set(cpu, vp, input, inputGpa),
        };
        return HypercallInput.Result(status, reps);
    }

    private static bool IsAligned(ulong gpa) => (gpa & (HvHypercallInput.BlockAlignment - 1)) == 0;

    private static ulong Pair(Cpu.Cpu cpu, int high, int low) => ((cpu.ReadGpr(high) & 0xFFFF_FFFF) << 32) | (cpu.ReadGpr(low) & 0xFFFF_FFFF);
}
