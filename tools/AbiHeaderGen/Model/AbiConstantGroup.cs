namespace HekiGuest.Tools.AbiHeaderGen.Model;

/// <summary>The constants of one C# type, in declaration order.</summary>
public sealed record AbiConstantGroup(string TypeName, IReadOnlyList<AbiConstant> Constants);
