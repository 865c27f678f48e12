using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>The sixteen 64-bit general purpose registers, indexable as <c>cpu.Gpr[Cpu.RAX]</c>.</summary>
[InlineArray(16)]
public struct GprFile
{
    private ulong _element0;
}
