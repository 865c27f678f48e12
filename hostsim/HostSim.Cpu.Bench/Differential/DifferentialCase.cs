namespace HekiGuest.HostSim.Cpu.Bench.Differential;

/// <summary>One generated test: code bytes, start state, and what is architecturally undefined.</summary>
internal sealed record DifferentialCase(string Description, byte[] Code, MachineState Input, ulong FlagsMask, ushort IgnoreGprMask, string Form);
