namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>A temporary directory with the test kernels and other inputs written out as files.</summary>
public sealed class CliFiles : IDisposable
{
    public CliFiles()
    {
        Directory.CreateDirectory(Root);
        File.WriteAllBytes(Hi, CliGuests.SaysHi());
        File.WriteAllBytes(Triple, CliGuests.TripleFaults());
        File.WriteAllBytes(Spin, CliGuests.Spins());
        File.WriteAllBytes(Fsin, CliGuests.RunsFsin());
        File.WriteAllText(NotElf, "this is a text file, not a kernel\n");
        File.WriteAllBytes(SmallModule, [1, 2, 3, 4]);
        File.WriteAllBytes(HugeModule, new byte[3 << 20]);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"hostsim-cli-tests-{Guid.NewGuid():N}");
    public string Hi => Path.Combine(Root, "hi.elf");
    public string Triple => Path.Combine(Root, "triple.elf");
    public string Spin => Path.Combine(Root, "spin.elf");
    public string Fsin => Path.Combine(Root, "fsin.elf");
    public string NotElf => Path.Combine(Root, "notes.txt");
    public string SmallModule => Path.Combine(Root, "small.mod");
    public string HugeModule => Path.Combine(Root, "huge.mod");
    public string Missing => Path.Combine(Root, "no-such-file.elf");
    public string InMissingDirectory => Path.Combine(Root, "no-such-dir", "out.jsonl");

    /// <summary>Replaces {hi}, {notelf}, {missing}, {nodir}, {small}, {huge} in arguments.</summary>
    public string[] Expand(string[] args) => args.Select(a => a
        .Replace("{hi}", Hi).Replace("{notelf}", NotElf).Replace("{missing}", Missing)
        .Replace("{nodir}", InMissingDirectory).Replace("{small}", SmallModule).Replace("{huge}", HugeModule)).ToArray();

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
