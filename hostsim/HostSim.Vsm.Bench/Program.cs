using System.Diagnostics;
using HekiGuest.Abi;
using HekiGuest.HostSim.GuestFuzz.Vsm;
using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

// make bench-vtl: what the VSM host's mechanisms cost a guest on hostsim. Each figure is a VTL0
// guest loop of N iterations whose body enters VTL1 (which answers with a fast VTL return), run
// in-process after a warm-up; the same loop with an empty body is subtracted. Best of 7.
const int Iterations = 50_000;
const int Runs = 7;
const ulong Page = VsmLabMachine.HypercallPage, In = VsmLabMachine.InputPage;
const ulong Payload = VsmLabMachine.AssistPage + HvVpAssist.InterceptMessageOffset + HvMessage.PayloadOffset;
const ulong Protected = 0x150000;

int figure = 0;
// `hostsim-vsm-bench N`: only the N-th figure (1-based), for profiling one path
const int Figures = 3;
int only = 0;
if (args.Length > 1 || (args.Length == 1 && (!int.TryParse(args[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out only) || only is < 1 or > Figures)))
{
    Console.Error.WriteLine($"hostsim-vsm-bench: expected no argument or one figure number from 1 to {Figures}, got '{string.Join(' ', args)}'");
    return 2;
}
Console.WriteLine($"machine: {Environment.ProcessorCount} CPUs, {Environment.OSVersion}, .NET {Environment.Version}");
Console.WriteLine($"each figure: a {Iterations:N0}-iteration VTL0 loop minus the same loop with an empty body, in one VM after a warm-up; best of {Runs} (wall time; the process CPU time beside it is steadier on a loaded machine)");

// VTL1's fast return, then back to the top of its handler loop
static void ReturnAndLoop(Assembler a, Label top)
{
    a.mov(ecx, (uint)HvVpAssist.VtlReturnFast);
    a.mov(r11, Page + HvHypercallPage.VtlReturnOffset);
    a.call(r11);
    a.jmp(top);
}

// VTL1 writes SetVpRegisters' input: VTL0's register `name` (if any) and RIP, elements prebuilt
static void WriteSetInput(VsmLabMachine lab, params uint[] names)
{
    var b = lab.Vm.Memory.Slice(In, 16 + 32 * names.Length);
    b.Clear();
    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[8..], HvCall.VpSelf);
    b[12] = HvInputVtl.UseTargetVtl;   // VTL0
    for (int i = 0; i < names.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[(16 + 32 * i)..], names[i]);
}

static void SetHypercall(Assembler a, int count)
{
    a.mov(rcx, HvCall.SetVpRegisters | (ulong)count << 32);
    a.mov(rdx, In);
    a.xor(r8d, r8d);
    a.mov(r11, Page);
    a.call(r11);
}

Measure("VTL call + fast VTL return round trip (VTL1 returns at once)",
    vtl1: (lab, a) =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        ReturnAndLoop(a, top);
    },
    body: a => { a.xor(ecx, ecx); a.mov(r11, Page + HvHypercallPage.VtlCallOffset); a.call(r11); });

Measure("intercepted MOV CR4 (OSXSAVE toggled) emulated by a minimal VTL1: SetVpRegisters(CR4, RIP + length), fast return",
    vtl1: (lab, a) =>
    {
        // first entry (the VTL call): arm the CR4 intercept for every bit, then the handler loop
        var b = lab.Vm.Memory.Slice(In + 0x800, 16 + 64);
        b.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[8..], HvCall.VpSelf);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[16..], HvRegister.CrInterceptControl);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[32..], HvCrIntercept.Cr4Write);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[48..], HvRegister.CrInterceptCr4Mask);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[64..], ulong.MaxValue);
        WriteSetInput(lab, HvRegister.Cr4, HvRegister.Rip);
        a.mov(rcx, HvCall.SetVpRegisters | 2UL << 32);
        a.mov(rdx, In + 0x800);
        a.xor(r8d, r8d);
        a.mov(r11, Page);
        a.call(r11);
        var top = a.CreateLabel();
        var handler = a.CreateLabel();
        a.jmp(handler);
        a.Label(ref top);
        // an intercept: emulate the write
        a.mov(r10, Payload);
        a.mov(rax, __qword_ptr[r10 + HvMessage.RegisterValue]);
        a.mov(r9, In);
        a.mov(__qword_ptr[r9 + 32], rax);
        a.mov(rax, __qword_ptr[r10 + HvMessage.HeaderRip]);
        a.movzx(edx, __byte_ptr[r10 + HvMessage.HeaderInstructionLength]);
        a.and(edx, 0xF);
        a.add(rax, rdx);
        a.mov(__qword_ptr[r9 + 64], rax);
        SetHypercall(a, 2);
        a.Label(ref handler);
        ReturnAndLoop(a, top);
    },
    body: a => { a.mov(rax, cr4); a.xor(eax, 1 << 18); a.mov(cr4, rax); },
    enter: true);

Measure("VTL0 write to a page VTL1 made read-only: GPA intercept to VTL1, which skips it (SetVpRegisters RIP + length), fast return",
    vtl1: (lab, a) =>
    {
        // first entry: enable VTL protection and make the page read-only, then the handler loop
        var b = lab.Vm.Memory.Slice(In + 0x800, 0x100);
        b.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, HvCall.PartitionSelf);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[8..], HvCall.VpSelf);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[16..], HvRegister.VsmPartitionConfig);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[32..], HvPartitionConfig.EnableVtlProtection | 0xFUL << 1);
        var m = lab.Vm.Memory.Slice(In + 0xC00, 0x20);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(m, HvCall.PartitionSelf);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(m[8..], HvMapGpa.Read);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(m[16..], Protected >> 12);
        WriteSetInput(lab, HvRegister.Rip);
        a.mov(rcx, HvCall.SetVpRegisters | 1UL << 32);
        a.mov(rdx, In + 0x800);
        a.xor(r8d, r8d);
        a.mov(r11, Page);
        a.call(r11);
        a.mov(rcx, HvCall.ModifyVtlProtectionMask | 1UL << 32);
        a.mov(rdx, In + 0xC00);
        a.call(r11);
        var top = a.CreateLabel();
        var handler = a.CreateLabel();
        a.jmp(handler);
        a.Label(ref top);
        a.mov(r10, Payload);
        a.mov(rax, __qword_ptr[r10 + HvMessage.HeaderRip]);
        a.movzx(edx, __byte_ptr[r10 + HvMessage.HeaderInstructionLength]);
        a.and(edx, 0xF);
        a.add(rax, rdx);
        a.mov(r9, In);
        a.mov(__qword_ptr[r9 + 32], rax);
        SetHypercall(a, 1);
        a.Label(ref handler);
        ReturnAndLoop(a, top);
    },
    body: a => { a.mov(rbx, Protected); a.mov(__qword_ptr[rbx], rax); },
    enter: true);

return 0;

void Measure(string name, Action<VsmLabMachine, Assembler> vtl1, Action<Assembler> body, bool enter = false)
{
    if (++figure != only && only != 0) return;
    using var lab = new VsmLabMachine(mbec: false);
    lab.Emit(VsmLabMachine.Vtl1Code, a => vtl1(lab, a));
    if (enter)
    {
        // VTL1's first entry arms what it answers
        var armed = lab.RunSnippet(a => { a.xor(ecx, ecx); a.mov(r11, Page + HvHypercallPage.VtlCallOffset); a.call(r11); }, 10_000, TimeSpan.FromSeconds(10));
        if (armed.Kind != MachineStopKind.GuestExit || lab.Host.CurrentVtl != 0) throw new InvalidOperationException($"bench set-up: {armed.Summary}");
    }
    Action<Assembler> Loop(Action<Assembler> b, int n) => a =>
    {
        var top = a.CreateLabel();
        a.mov(r12d, n);
        a.Label(ref top);
        b(a);
        a.dec(r12);
        a.jnz(top);
    };
    MachineOutcome Run(Action<Assembler> code)
    {
        var outcome = lab.RunSnippet(code, long.MaxValue, TimeSpan.FromSeconds(60));
        if (outcome.Kind != MachineStopKind.GuestExit || lab.Host.CurrentVtl != 0 || lab.Vm.DebugExit.Value != VsmLabMachine.SnippetExit)
            throw new InvalidOperationException($"bench run ended badly: {outcome.Summary} in VTL{lab.Host.CurrentVtl}");
        return outcome;
    }
    var warm = Stopwatch.StartNew();
    while (warm.Elapsed < TimeSpan.FromSeconds(2.5))
    {
        Run(Loop(body, Iterations / 5));
        Run(Loop(_ => { }, Iterations / 5));
    }
    double best = double.MaxValue, bestEmpty = double.MaxValue, bestCpu = double.MaxValue, bestEmptyCpu = double.MaxValue;
    long instructions = 0, emptyInstructions = 0;
    long interceptsBefore = lab.Host.InterceptCount;
    var process = Process.GetCurrentProcess();
    for (int r = 0; r < Runs; r++)
    {
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        instructions = Run(Loop(body, Iterations)).Instructions;
        best = Math.Min(best, clock.Elapsed.TotalNanoseconds / Iterations);
        process.Refresh();
        bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu).TotalNanoseconds / Iterations);
        cpu = process.TotalProcessorTime;
        clock.Restart();
        emptyInstructions = Run(Loop(_ => { }, Iterations)).Instructions;
        bestEmpty = Math.Min(bestEmpty, clock.Elapsed.TotalNanoseconds / Iterations);
        process.Refresh();
        bestEmptyCpu = Math.Min(bestEmptyCpu, (process.TotalProcessorTime - cpu).TotalNanoseconds / Iterations);
    }
    double perOp = best - bestEmpty, perOpCpu = bestCpu - bestEmptyCpu;
    double guestInstructions = (double)(instructions - emptyInstructions) / Iterations;
    long intercepts = lab.Host.InterceptCount - interceptsBefore;
    Console.WriteLine($"  {name}:");
    Console.WriteLine($"    {perOp / 1000:0.00} us per operation ({perOpCpu / 1000:0.00} us of process CPU time), {guestInstructions:0.0} guest instructions (both VTLs); {intercepts:N0} intercepts in the measured runs");
}
