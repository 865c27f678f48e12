namespace HekiGuest.HostSim.Cpu.Bench;
internal static class Benchmarks { public static int Run(string[] args) => 0; }
