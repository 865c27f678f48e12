using System.Buffers.Binary;
using HekiGuest.HostSim.Machine.Execution;
using System.Runtime.Intrinsics;
using HekiGuest.HostSim.Vsm;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// The narrow view of the VM the stub works through (VM thread only, while the VM is stopped):
/// registers by target-description number and memory by virtual address, both of the VTL gdb
/// has selected. The selected VTL's state is the CPU's when it runs, else the private registers
/// it saved at its last switch (the other registers are shared between VTLs) and its own page
/// tables. Memory is translated by the page walker without side effects (no accessed/dirty bits,
/// no TLB fill); pages hidden from the host (VTL1's, without the opt-in) read as unmapped.
/// </summary>
public sealed class GdbMachine(VirtualMachine vm, IGdbVtlView? vtl = null)
{
    private static readonly int[] GprOrder = [Processor.RAX, Processor.RBX, Processor.RCX, Processor.RDX, Processor.RSI, Processor.RDI, Processor.RBP, Processor.RSP];
    private static readonly int[] SegmentOrder = [Processor.CS, Processor.SS, Processor.DS, Processor.ES, Processor.FS, Processor.GS];

    public VirtualMachine Vm { get; } = vm;
    public IGdbVtlView? Vtl { get; } = vtl;

    /// <summary>The VTL whose state gdb sees (0 unless `monitor vtl 1` chose VTL1).</summary>
    public int SelectedVtl { get; private set; }

    /// <summary>True when the vCPU runs the selected VTL (the stub stops only then).</summary>
    public bool RunsSelectedVtl => (Vtl?.CurrentVtl ?? 0) == SelectedVtl;

    /// <summary>Selects the VTL gdb sees; returns why not, or null.</summary>
    public string? SelectVtl(int vtl)
    {
        int highest = Vtl?.HighestVtl ?? 0;
        if (vtl < 0 || vtl > highest)
            return highest == 0 ? $"VTL {vtl}: this VM has only VTL0 (VTLs need --profile vsm)" : $"VTL {vtl}: expected 0 to {highest}";
        if (vtl > 0 && Vtl is { Vtl1DebugOptIn: false })
            return "VTL1 is private: start hostsim with --show-vtl1 (or the policy key vtl1-debug) to debug it";
        if (vtl != (Vtl?.CurrentVtl ?? 0) && Vtl?.Saved(vtl) is null)
            return $"VTL {vtl} has not run yet: it has no state to show";
        SelectedVtl = vtl;
        return null;
    }

    private VtlPrivateState? SavedView => RunsSelectedVtl ? null : Vtl?.Saved(SelectedVtl);

    public ulong Rip => SavedView?.Rip ?? Vm.Cpu.Rip;

    public int Bitness
    {
        get
        {
            if (SavedView is not { } s) return Vm.Cpu.Bitness;
            var cs = s.Segments[Processor.CS];
            return (s.Efer & 0x400) != 0 && cs.Long ? 64 : cs.DefaultBig ? 32 : 16;
        }
    }

    /// <summary>Reads register <paramref name="r"/> little-endian into <paramref name="value"/>
    /// (its size); false when hostsim does not model it (gdb shows it as unavailable).</summary>
    public bool TryReadRegister(GdbRegister r, Span<byte> value)
    {
        var cpu = Vm.Cpu;
        var saved = SavedView;
        value.Clear();
        int n = r.Number;
        ulong v;
        switch (r.Name)
        {
            case var _ when n < 16:
                int gpr = n < 8 ? GprOrder[n] : n;
                v = gpr == Processor.RSP && saved is not null ? saved.Rsp : cpu.ReadGpr(gpr);
                break;
            case "rip": v = saved?.Rip ?? cpu.Rip; break;
            case "eflags": v = saved?.Rflags ?? cpu.Rflags; break;
            case "cs" or "ss" or "ds" or "es" or "fs" or "gs":
                v = (saved?.Segments ?? cpu.Segments)[SegmentOrder[n - 18]].Selector;
                break;
            case "fctrl": v = cpu.FpuControl; break;
            case "fstat": v = cpu.FpuStatus; break;
            case "mxcsr": v = cpu.Mxcsr; break;
            case "fs_base": v = (saved?.Segments ?? cpu.Segments)[Processor.FS].Base; break;
            case "gs_base": v = (saved?.Segments ?? cpu.Segments)[Processor.GS].Base; break;
            case "cr0": v = saved?.Cr0 ?? cpu.Cr0; break;
            case "cr2": v = cpu.Cr2; break;
            case "cr3": v = saved?.Cr3 ?? cpu.Cr3; break;
            case "cr4": v = saved?.Cr4 ?? cpu.Cr4; break;
            case "cr8": v = cpu.Cr8; break;
            case "efer": v = saved?.Efer ?? cpu.Efer; break;
            case "kernel_gs_base": v = saved?.KernelGsBase ?? cpu.KernelGsBase; break;
            default:
                if (r.Name.StartsWith("xmm", StringComparison.Ordinal))
                {
                    var x = cpu.Xmm[n - 40];
                    BinaryPrimitives.WriteUInt64LittleEndian(value, x.GetElement(0));
                    BinaryPrimitives.WriteUInt64LittleEndian(value[8..], x.GetElement(1));
                    return true;
                }
                return false; // the x87 stack and its pointers: not modelled for the debugger
        }
        for (int i = 0; i < r.Bytes && i < 8; i++) value[i] = (byte)(v >> (8 * i));
        return true;
    }

    /// <summary>Writes register <paramref name="r"/>; returns why not, or null. Only the running
    /// VTL's general registers, RIP, RFLAGS and XMM registers are writable: control registers,
    /// segments and EFER stay under the guest's and host policy's control (pins, filters).</summary>
    public string? WriteRegister(GdbRegister r, ReadOnlySpan<byte> value)
    {
        if (value.Length != r.Bytes) return $"{r.Name}: expected {r.Bytes} bytes";
        if (!r.Writable) return $"{r.Name} is read-only through gdb";
        if (!RunsSelectedVtl) return $"VTL {SelectedVtl} is not running: its registers are read-only";
        var cpu = Vm.Cpu;
        int n = r.Number;
        if (r.Name.StartsWith("xmm", StringComparison.Ordinal))
        {
            cpu.Xmm[n - 40] = System.Runtime.Intrinsics.Vector128.Create(
                BinaryPrimitives.ReadUInt64LittleEndian(value), BinaryPrimitives.ReadUInt64LittleEndian(value[8..]));
            return null;
        }
        ulong v = r.Bytes == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(value) : BinaryPrimitives.ReadUInt32LittleEndian(value);
        if (n < 16) cpu.WriteGpr(n < 8 ? GprOrder[n] : n, v);
        else if (r.Name == "rip") cpu.Rip = v;
        else if (r.Name == "eflags") cpu.Rflags = (v & 0x3F7FD7) | 0x2; // defined bits only, bit 1 set
        else return $"{r.Name} is read-only through gdb";
        return null;
    }

    /// <summary>Reads virtual memory of the selected VTL; returns the bytes read (a prefix, 0 when unmapped).</summary>
    public int ReadMemory(ulong address, byte[] destination) => InSelectedPaging(() => Vm.PeekLinear(address, destination));

    /// <summary>Writes virtual memory of the selected VTL; returns the bytes written (a prefix).</summary>
    public int WriteMemory(ulong address, byte[] source) => InSelectedPaging(() => Vm.PokeLinear(address, source));

    /// <summary>Runs a page-walking peek under the selected VTL's paging registers (its own CR3),
    /// restoring the CPU's afterwards; the walk caches nothing.</summary>
    private int InSelectedPaging(Func<int> access)
    {
        if (SavedView is not { } s) return access();
        var cpu = Vm.Cpu;
        var (cr0, cr3, cr4, efer) = (cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer);
        try
        {
            (cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer) = (s.Cr0, s.Cr3, s.Cr4, s.Efer);
            return access();
        }
        finally
        {
            (cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer) = (cr0, cr3, cr4, efer);
        }
    }
}
