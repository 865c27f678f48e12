namespace HekiGuest.Tools.AbiHeaderGen.Model;

/// <summary>Everything HekiAbi.cs declares: the constant groups and the structs, each in declaration order.</summary>
public sealed record AbiModel(string Namespace, IReadOnlyList<AbiConstantGroup> Groups, IReadOnlyList<AbiStruct> Structs);
