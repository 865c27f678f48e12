namespace HekiGuest.Tools.AbiHeaderGen.Model;

/// <summary>A C# struct of the ABI: its size and fields as the runtime lays them out.</summary>
public sealed record AbiStruct(string TypeName, int Size, IReadOnlyList<AbiField> Fields);
