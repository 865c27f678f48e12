using HekiGuest.Abi;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The hypercall input value (RCX in 64-bit mode, EDX:EAX otherwise), decoded (docs/vtl.md
/// section 4): call code, fast flag, variable header size (8-byte units), rep count and rep
/// start index.
/// </summary>
public readonly record struct HypercallInput(ushort Code, bool Fast, int VariableHeaderQwords, int RepCount, int RepStart)
{
    public bool IsRep => RepCount != 0;

    /// <summary>Decodes <paramref name="value"/>; <see cref="HvStatus.InvalidHypercallInput"/> when
    /// a reserved bit is set or the rep start index is not below a non-zero rep count.</summary>
    public static ushort TryDecode(ulong value, out HypercallInput input)
    {
        input = new HypercallInput(
            (ushort)(value & HvHypercallInput.CodeMask),
            (value & HvHypercallInput.Fast) != 0,
            (int)((value >> HvHypercallInput.VariableHeaderShift) & HvHypercallInput.VariableHeaderMask),
            (int)((value >> HvHypercallInput.RepCountShift) & HvHypercallInput.RepMask),
            (int)((value >> HvHypercallInput.RepStartShift) & HvHypercallInput.RepMask));
        if ((value & HvHypercallInput.ReservedMask) != 0) return HvStatus.InvalidHypercallInput;
        if (input.RepCount == 0 ? input.RepStart != 0 : input.RepStart >= input.RepCount) return HvStatus.InvalidHypercallInput;
        return HvStatus.Success;
    }

    /// <summary>The result value: status in bits 15:0, reps completed in bits 43:32.</summary>
    public static ulong Result(ushort status, int repsCompleted) =>
        status | (((ulong)repsCompleted & HvHypercallInput.RepMask) << HvHypercallInput.RepsCompletedShift);
}
