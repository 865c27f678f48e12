using System.Runtime.Intrinsics;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>
/// Runs one code sequence on the host CPU (through a register-loading trampoline in an RWX page) and
/// on the interpreter (guest linear address = host address, CPL 3 like the host process) from the
/// same state, and returns both end states.
/// </summary>
internal sealed unsafe class DifferentialRig : IDisposable
{
    public const ulong RegionSize = 0x40000;
    public const ulong StateOffset = 0x8000;
    public const ulong DataOffset = 0x10000;
    public const int DataSize = 4096;
    public const ulong StackOffset = 0x20000;
    public const int StackSize = 4096;
    private const int HostRspOff = 0x200, FlagsOff = 0x80;
    private const int XmmBase = 0x100;

    private readonly RwxRegion _region;
    private readonly PhysicalMemory _memory;
    private readonly byte[] _prologue;
    private readonly byte[] _epilogue;

    public DifferentialRig()
    {
        _region = new RwxRegion(RegionSize);
        _memory = new PhysicalMemory(_region.Base, RegionSize);
        Cpu = new Cpu(_memory, new FlatTranslator(RegionSize, _region.Address));
        Cpu.EnterFlatLongMode();
        var cs = Cpu.Segments[HekiGuest.HostSim.Cpu.Cpu.CS];
        cs.Selector = 0x33;
        cs.Attributes = (ushort)(cs.Attributes | 0x60);
        Cpu.SetSegment(HekiGuest.HostSim.Cpu.Cpu.CS, cs);
        _prologue = BuildPrologue();
        _epilogue = BuildEpilogue();
    }

    public Cpu Cpu { get; }

    public ulong Base => _region.Address;

    public ulong CodeStart => Base + (ulong)_prologue.Length;

    public ulong DataStart => Base + DataOffset;

    public ulong StackStart => Base + StackOffset;

    public ulong StackTop => StackStart + (ulong)StackSize / 2;

    private ulong StateAddr => Base + StateOffset;

    private byte[] BuildPrologue()
    {
        var a = new Assembler(64);
        a.push(rbx); a.push(rbp); a.push(r12); a.push(r13); a.push(r14); a.push(r15);
        a.mov(rax, StateAddr);
        a.mov(__qword_ptr[rax + HostRspOff], rsp);
        var xmms = Xmms();
        for (int i = 0; i < 16; i++) a.movdqu(xmms[i], __xmmword_ptr[rax + XmmBase + 16 * i]);
        a.push(__qword_ptr[rax + FlagsOff]);
        a.popfq();
        var gprs = Gprs();
        a.mov(rsp, __qword_ptr[rax + 8 * 4]);
        for (int i = 1; i < 16; i++)
        {
            if (i != 4) a.mov(gprs[i], __qword_ptr[rax + 8 * i]);
        }
        a.mov(rax, __qword_ptr[rax]);
        return Assemble(a, Base);
    }

    private byte[] BuildEpilogue()
    {
        var a = new Assembler(64);
        var bytes = new List<byte> { 0x48, 0xA3 };
        bytes.AddRange(BitConverter.GetBytes(StateAddr));
        a.db(bytes.ToArray());
        a.mov(rax, StateAddr);
        var gprs = Gprs();
        for (int i = 1; i < 16; i++) a.mov(__qword_ptr[rax + 8 * i], gprs[i]);
        a.mov(rsp, __qword_ptr[rax + HostRspOff]);
        a.pushfq();
        a.pop(__qword_ptr[rax + FlagsOff]);
        var xmms = Xmms();
        for (int i = 0; i < 16; i++) a.movdqu(__xmmword_ptr[rax + XmmBase + 16 * i], xmms[i]);
        a.cld();
        a.pop(r15); a.pop(r14); a.pop(r13); a.pop(r12); a.pop(rbp); a.pop(rbx);
        a.ret();
        return Assemble(a, 0);
    }

    private static AssemblerRegister64[] Gprs() => [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];

    private static AssemblerRegisterXMM[] Xmms() => [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];

    private static byte[] Assemble(Assembler a, ulong ip)
    {
        var w = new ByteListWriter();
        a.Assemble(w, ip);
        return w.ToArray();
    }

    /// <summary>Places prologue + code + epilogue; returns the epilogue address (where the interpreter stops).</summary>
    private ulong Place(byte[] code)
    {
        new ReadOnlySpan<byte>(_prologue).CopyTo(new Span<byte>(_region.Base, _prologue.Length));
        new ReadOnlySpan<byte>(code).CopyTo(new Span<byte>(_region.Base + _prologue.Length, code.Length));
        new ReadOnlySpan<byte>(_epilogue).CopyTo(new Span<byte>(_region.Base + _prologue.Length + code.Length, _epilogue.Length));
        return CodeStart + (ulong)code.Length;
    }

    private void LoadMemory(MachineState s)
    {
        s.Data.CopyTo(new Span<byte>(_region.Base + DataOffset, DataSize));
        s.Stack.CopyTo(new Span<byte>(_region.Base + StackOffset, StackSize));
    }

    private void SaveMemory(MachineState s)
    {
        s.Data = new Span<byte>(_region.Base + DataOffset, DataSize).ToArray();
        s.Stack = new Span<byte>(_region.Base + StackOffset, StackSize).ToArray();
    }

    public MachineState RunHost(byte[] code, MachineState input)
    {
        Place(code);
        LoadMemory(input);
        ulong* st = (ulong*)(_region.Base + StateOffset);
        for (int i = 0; i < 16; i++) st[i] = input.Gpr[i];
        st[FlagsOff / 8] = input.Rflags;
        for (int i = 0; i < 16; i++)
        {
            st[XmmBase / 8 + 2 * i] = input.XmmLo[i];
            st[XmmBase / 8 + 2 * i + 1] = input.XmmHi[i];
        }
        var fn = (delegate* unmanaged<void>)_region.Base;
        fn();
        var o = new MachineState();
        for (int i = 0; i < 16; i++) o.Gpr[i] = st[i];
        o.Rflags = st[FlagsOff / 8];
        for (int i = 0; i < 16; i++)
        {
            o.XmmLo[i] = st[XmmBase / 8 + 2 * i];
            o.XmmHi[i] = st[XmmBase / 8 + 2 * i + 1];
        }
        SaveMemory(o);
        return o;
    }

    /// <summary>Runs the code under the interpreter; returns null state and the pending exception if it faulted.</summary>
    public (MachineState? State, string? Fault) RunInterpreter(byte[] code, MachineState input)
    {
        ulong end = Place(code);
        LoadMemory(input);
        var cpu = Cpu;
        ulong firstPage = (CodeStart - Base) >> 12;
        ulong lastPage = (end + (ulong)_epilogue.Length - Base) >> 12;
        for (ulong p = firstPage; p <= lastPage; p++) cpu.InvalidateCodePage(p);
        for (int i = 0; i < 16; i++) cpu.Gpr[i] = input.Gpr[i];
        cpu.Rflags = input.Rflags;
        for (int i = 0; i < 16; i++) cpu.Xmm[i] = System.Runtime.Intrinsics.Vector128.Create(input.XmmLo[i], input.XmmHi[i]);
        cpu.Rip = CodeStart;
        cpu.BreakAt = end;
        var stop = cpu.Run(100_000);
        if (stop != StopReason.Breakpoint)
        {
            string why = stop == StopReason.Exception ? $"exception {cpu.PendingException} at rip=0x{cpu.Rip:x}" : stop.ToString();
            if (cpu.Diagnostics.Count > 0) why += $" [{cpu.Diagnostics[^1]}]";
            return (null, why);
        }
        var o = new MachineState { Rflags = cpu.Rflags };
        for (int i = 0; i < 16; i++) o.Gpr[i] = cpu.Gpr[i];
        for (int i = 0; i < 16; i++)
        {
            o.XmmLo[i] = cpu.Xmm[i].GetElement(0);
            o.XmmHi[i] = cpu.Xmm[i].GetElement(1);
        }
        SaveMemory(o);
        return (o, null);
    }

    public void Dispose()
    {
        _memory.Dispose();
        _region.Dispose();
    }
}

/// <summary>Iced code writer into a growable byte list.</summary>
internal sealed class ByteListWriter : CodeWriter
{
    private readonly List<byte> _bytes = [];

    public override void WriteByte(byte value) => _bytes.Add(value);

    public byte[] ToArray() => _bytes.ToArray();

    public void Clear() => _bytes.Clear();
}
