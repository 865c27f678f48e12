namespace HekiGuest.Tools.AbiHeaderGen.Model;

/// <summary>One instance field of an ABI struct, with its offset and size from the C# layout.</summary>
public sealed record AbiField(string Name, Type FieldType, int Offset, int Size);
