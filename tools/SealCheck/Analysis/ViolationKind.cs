namespace HekiGuest.Tools.SealCheck.Analysis;

public enum ViolationKind
{
    /// <summary>A sealed-class instruction in the linear-sweep stream outside .heki.sealed.</summary>
    SealedOutside,

    /// <summary>A sealed-class encoding starting at a byte offset that is not an instruction boundary.</summary>
    UnalignedEncoding,

    /// <summary>A sealed-class encoding that only appears when the bytes are decoded with the other bitness.</summary>
    OtherBitnessEncoding,

    /// <summary>The sealed section's placement breaks the layout contract.</summary>
    Layout,
}
