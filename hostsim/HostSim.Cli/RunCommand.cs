using System.CommandLine;
using HekiGuest.Elf;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Control;
using HekiGuest.HostSim.Control.Policy;
using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Loading;
using HekiGuest.HostSim.Machine.Reporting;
using HekiGuest.HostSim.Vsm;

namespace HekiGuest.HostSim.Cli;

/// <summary>`hostsim run`: boot a kernel ELF, guest serial on stdout, exit code from the guest.</summary>
public static class RunCommand
{
    public const string VsmProfileName = "vsm";

    public static Command Create()
    {
        var kernel = new Argument<string>("kernel") { Description = "Kernel ELF to boot (multiboot2, PVH, or multiboot1 ELF32)." };
        var modules = new Option<string[]>("--module")
        {
            Description = "Boot module FILE, optionally FILE=string to pass a module command line (like QEMU's -initrd). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var cmdline = new Option<string>("--cmdline") { Description = "Kernel command line.", DefaultValueFactory = _ => "" };
        var memory = new Option<string>("--memory") { Description = "Guest RAM size: bytes or with K/M/G suffix.", DefaultValueFactory = _ => "128M" };
        var timeout = new Option<string?>("--timeout") { Description = "Wall-clock limit, e.g. 10s, 500ms, 2m (exit code 124 when hit)." };
        var maxInstructions = new Option<long?>("--max-instructions") { Description = "Instruction budget: instructions retired (each REP iteration counts) plus exceptions delivered (exit code 124 when used up)." };
        var trace = new Option<string?>("--trace") { Description = "Write executed instructions and machine events to FILE as JSON lines (slow)." };
        var boot = new Option<string>("--boot") { Description = "Boot protocol: auto, multiboot2, pvh or multiboot1.", DefaultValueFactory = _ => "auto" };
        var quiet = new Option<bool>("--quiet") { Description = "Do not print the closing statistics line on stderr." };
        var profile = new Option<string>("--profile")
        {
            Description = "Host interface the guest sees: heki (the HekiGuest ABI, docs/abi.md), cr-pin-2020 (June 2020 CR-pinning MSRs), "
                + "heki-v3 (Heki RFC v3 LOCK_CR_UPDATE), vsm (the policy-free Hyper-V VSM host, docs/vtl.md) "
                + "or none (no hypervisor interface, like plain QEMU).",
            DefaultValueFactory = _ => "heki",
        };
        var onDenial = new Option<string?>("--on-denial")
        {
            Description = "What a denied CR write, MSR write, memory access or hypercall does: inject (the fault goes to the guest), stop (the VM stops with a report, exit code 73) "
                + "or ask (the vCPU waits for the QMP client's verdict; inject without one). Default inject; per-kind actions in the --policy file.",
        };
        var serialFile = new Option<string?>("--serial") { Description = "Write the guest's serial output (COM1) to FILE instead of stdout." };
        var events = new Option<string?>("--events") { Description = "Write HekiGuest configure and denial events (--profile vsm: set-up events) to FILE as JSON lines." };
        var stopOnUnimplemented = new Option<bool>("--stop-on-unimplemented")
        {
            Description = "Debugging: stop (exit code 71, with a report) at the first valid instruction the simulator does not implement, "
                + "instead of delivering #UD to the guest as a CPU without it would. Undefined opcodes always deliver #UD.",
        };
        var showVtl1 = new Option<bool>("--show-vtl1")
        {
            Description = "--profile vsm: show VTL1's instructions, registers and the pages it hides from VTL0 in --trace and crash reports (hidden by default).",
        };
        var pin = new Option<string[]>("--pin")
        {
            Description = "Host userspace pins CR bits high before the guest runs (and after every reset): cr0=MASK,cr4=MASK. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };

        var cpu = CpuOption.Create();
        var qmp = new Option<string?>("--qmp")
        {
            Description = "QMP control socket, as QEMU spells it: unix:PATH,server[,wait=off]. With wait=on (the default) the VM starts when a client connects. Commands in docs/vmm.md.",
        };
        var paused = new Option<bool>("--paused", "-S") { Description = "With --qmp: boot, then wait for the client's cont before the first guest instruction (QEMU's -S)." };
        var onReboot = new Option<string?>("--on-reboot")
        {
            Description = "What a guest's reset request (port 0xCF9, the 8042's 0xFE) does: reboot (reset the platform and boot the same kernel again, "
                + "at most reboot.max-resets times; the default) or stop (exit code 74, like QEMU's -no-reboot).",
        };
        var kexec = new Option<string?>("--kexec")
        {
            Description = "--profile vsm: whether VTL1 may remove itself before a kexec (HekiGuest's RemoveVtl1 extension, docs/vtl.md): allow (default) or deny.",
        };
        var policyFile = new Option<string?>("--policy")
        {
            Description = "Host policy file (JSON, docs/vmm.md): pins, CR/MSR filters, denial actions, reboot policy, limits. Options given on the command line win. Exit code 78 for a bad file.",
        };

        var gdb = new Option<string?>("--gdb")
        {
            Description = "gdb remote stub, as QEMU spells it: tcp::PORT (127.0.0.1) or tcp:HOST:PORT; then `target remote :PORT` in gdb. Exit code 75 when the port is in use. docs/vmm.md section 6.",
        };
        var gdbWait = new Option<bool>("--gdb-wait") { Description = "With --gdb: stay stopped at the first instruction until gdb attaches and continues (QEMU's -s -S)." };

        var command = new Command("run", "Boot a kernel on the simulated PC. Exit code: the guest's debug-exit code ((value << 1) | 1), "
            + "2 for bad input, 70 triple fault, 71 unimplemented instruction (--stop-on-unimplemented), 72 halted forever, 73 stopped on a denial, 75 a --gdb port in use, 74 stopped on a guest reset request (--on-reboot stop), 124 timeout or instruction limit.")
        {
            kernel, modules, cmdline, memory, timeout, maxInstructions, trace, boot, quiet, profile, onDenial, events, pin, serialFile,
            stopOnUnimplemented, cpu, qmp, paused, policyFile, showVtl1, onReboot, gdb, gdbWait, kexec,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(policyFile) is { } path ? HostPolicyFile.Load(path) : new HostPolicy();
            var settings = ControlSettings.Merge(file, new ControlSettings.CommandLine(
                parse.GetResult(profile) is { Implicit: false } ? parse.GetValue(profile) : null,
                parse.GetValue(onDenial), parse.GetValue(pin) ?? [], parse.GetValue(timeout), parse.GetValue(maxInstructions), parse.GetValue(qmp),
                parse.GetValue(paused), parse.GetValue(showVtl1), parse.GetValue(onReboot), parse.GetValue(gdb), parse.GetValue(gdbWait), Kexec: parse.GetValue(kexec)));
            return Run(
                parse.GetValue(kernel)!, parse.GetValue(modules) ?? [], parse.GetValue(cmdline) ?? "", parse.GetValue(memory) ?? "128M",
                parse.GetValue(trace), parse.GetValue(boot) ?? "auto", parse.GetValue(quiet), settings,
                HekiSettings(settings), parse.GetValue(events), parse.GetValue(serialFile), parse.GetValue(stopOnUnimplemented),
                CpuOption.Parse(parse.GetValue(cpu)));
        });
        return command;
    }

    /// <summary>The host layer settings: null for --profile vsm (a <see cref="VsmHost"/>, which has
    /// no pins and no denials yet), else the HekiGuest host's options.</summary>
    private static HekiHostOptions? HekiSettings(ControlSettings settings)
    {
        string profileText = settings.Profile;
        bool pins = (settings.PinCr0 | settings.PinCr4) != 0;
        if (profileText.Trim().Equals(VsmProfileName, StringComparison.OrdinalIgnoreCase))
        {
            if (pins) throw new UsageError("--pin needs the HekiGuest interface (--profile vsm has no host pins)");
            return null;
        }
        if (!HekiHostProfiles.TryParse(profileText, out var profile))
            throw new UsageError($"--profile {profileText}: expected one of {string.Join(", ", HekiHostProfiles.Names)}, {VsmProfileName}");
        if (pins && profile == HekiHostProfile.None)
            throw new UsageError("--pin needs a host interface (--profile none has none; a CR filter in the --policy file works under every profile)");
        return new HekiHostOptions { Profile = profile, PrePinCr0 = settings.PinCr0, PrePinCr4 = settings.PinCr4 };
    }

    private static int Run(string kernelPath, string[] moduleArgs, string cmdline, string memoryText,
        string? tracePath, string bootText, bool quiet, ControlSettings settings, HekiHostOptions? heki, string? eventsPath, string? serialPath,
        bool stopOnUnimplemented, CpuModel cpuModel)
    {
        if (settings.Vtl1Debug && heki is not null) throw new UsageError("--show-vtl1 needs --profile vsm (the only profile with a VTL1; the policy key vtl1-debug is the same opt-in)");
        ulong memory = ValueParsers.ParseSize(memoryText);
        if (memory < (2UL << 20) || memory > (16UL << 30) || (memory & 0xFFF) != 0)
            throw new UsageError($"--memory {memoryText}: must be a multiple of 4 KiB between 2M and 16G");
        BootProtocol protocol = bootText.ToLowerInvariant() switch
        {
            "auto" => BootProtocol.Auto,
            "multiboot2" => BootProtocol.Multiboot2,
            "pvh" => BootProtocol.Pvh,
            "multiboot1" or "multiboot" => BootProtocol.Multiboot1,
            _ => throw new UsageError($"--boot {bootText}: expected auto, multiboot2, pvh or multiboot1"),
        };
        byte[] image = ReadFile(kernelPath, "kernel");
        var modules = moduleArgs.Select(ParseModule).ToList();
        // Symbols are only needed for traces and crash reports: read them when first asked for.
        var symbolMap = new Lazy<SymbolMap>(() =>
        {
            try { return new SymbolMap(ElfImage.Parse(image).Symbols ?? []); }
            catch (ElfFormatException) { return SymbolMap.Empty; }
        });

        using var serialTarget = serialPath is null ? Console.OpenStandardOutput() : OpenOutput(serialPath, "serial");
        var serial = new BufferedStream(serialTarget, 1 << 14);
        using var vm = new VirtualMachine(memory, b => serial.WriteByte(b));
        vm.UseCpuModel(cpuModel);   // before the host layer adds its CPUID leaves
        using var traceWriter = tracePath is null ? null : new JsonTraceWriter(OpenOutput(tracePath, "trace"), symbolMap.Value);
        vm.Trace = traceWriter;
        vm.StopOnUnimplemented = stopOnUnimplemented;
        int unimplementedNotes = 0;
        vm.UnimplementedInstruction += d =>
        {
            // bounded: a guest that loops on an instruction the core lacks must not flood stderr
            if (++unimplementedNotes <= 10)
                Console.Error.WriteLine($"hostsim: note: #UD for an instruction the simulator does not implement at 0x{d.Rip:x}: {d.Mnemonic} [{Convert.ToHexString(d.Bytes)}]");
        };
        using var control = new HostControlSetup(vm, settings, heki, eventsPath is null ? null : OpenOutput(eventsPath, "events"));
        vm.Ports.UnmodelledAccess += (port, write) =>
            Console.Error.WriteLine($"hostsim: note: unmodelled I/O port 0x{port:x} ({(write ? "write" : "read")}; reads return all ones)");
        try
        {
            vm.Boot(image, cmdline, modules, protocol);
        }
        catch (LoadError e)
        {
            throw new UsageError(e.Message);
        }
        var outcome = control.Run(new RunLimits(settings.Timeout, settings.MaxInstructions));
        serial.Flush();
        if (outcome.IsCrash)
        {
            Console.Error.Write(CrashReport.Format(vm, outcome, symbolMap.Value, vm.RecentInstructions()));
        }
        if (!quiet)
        {
            Console.Error.WriteLine($"hostsim: {outcome.Summary}; {outcome.Instructions} instructions in {outcome.Elapsed.TotalSeconds:0.000} s ({outcome.Mips:0.0} MIPS); exit code {outcome.ExitCode}");
        }
        return outcome.ExitCode;
    }

    private static ModuleSpec ParseModule(string arg)
    {
        int eq = arg.IndexOf('=');
        string path = eq < 0 ? arg : arg[..eq];
        string name = eq < 0 ? Path.GetFileName(arg) : arg[(eq + 1)..];
        return new ModuleSpec(ReadFile(path, "module"), name);
    }

    private static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageError($"cannot read {what} file '{path}': {e.Message}");
        }
    }

    private static FileStream OpenOutput(string path, string what)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageError($"cannot write {what} file '{path}': {e.Message}");
        }
    }
}
