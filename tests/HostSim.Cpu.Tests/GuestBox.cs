using HekiGuest.HostSim.Cpu.Bench.Differential;
using Iced.Intel;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>A 1 MiB flat guest with code at 0x1000 and a stack at 0x80000, for table-driven system tests.</summary>
internal sealed unsafe class GuestBox : IDisposable
{
    public const ulong CodeBase = 0x1000;
    public const ulong StackTop = 0x80000;
    public const ulong DataBase = 0x40000;

    public GuestBox(bool longMode = true)
    {
        Memory = new PhysicalMemory(0x100000);
        Cpu = new Cpu(Memory);
        if (longMode) Cpu.EnterFlatLongMode(); else Cpu.EnterFlatProtectedMode();
        Cpu.Gpr[Cpu.RSP] = StackTop;
        Cpu.Rip = CodeBase;
    }

    public PhysicalMemory Memory { get; }

    public Cpu Cpu { get; }

    public ulong CodeEnd { get; private set; }

    public void Load(Action<Assembler> emit, ulong at = CodeBase, int bitness = 0)
    {
        var a = new Assembler(bitness == 0 ? Cpu.Bitness : bitness);
        emit(a);
        var w = new ByteListWriter();
        a.Assemble(w, at);
        LoadBytes(w.ToArray(), at);
    }

    public void LoadBytes(byte[] bytes, ulong at = CodeBase)
    {
        bytes.CopyTo(Memory.Slice(at, bytes.Length));
        CodeEnd = at + (ulong)bytes.Length;
    }

    public ulong ReadU64(ulong phys) => BitConverter.ToUInt64(Memory.Slice(phys, 8));

    public void WriteU64(ulong phys, ulong v) => BitConverter.TryWriteBytes(Memory.Slice(phys, 8), v);

    /// <summary>Makes the CPU run at CPL 3 (user code segment).</summary>
    public void EnterUserMode()
    {
        var cs = Cpu.Segments[Cpu.CS];
        cs.Selector = 0x33;
        cs.Attributes |= 0x60;
        Cpu.SetSegment(Cpu.CS, cs);
    }

    /// <summary>Runs until HLT, an exception, or the budget; returns the stop reason.</summary>
    public StopReason Run(long budget = 100_000) => Cpu.Run(budget);

    public string Describe() => $"rip=0x{Cpu.Rip:x} pending={Cpu.PendingException} diag={string.Join(";", Cpu.Diagnostics)}";

    public void Dispose() => Memory.Dispose();
}
