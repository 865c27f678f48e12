namespace HekiGuest.Tools.AbiHeaderGen.Model;

/// <summary>One C# <c>const</c>: its declaring type, its name and its exact value (as compiled).</summary>
public sealed record AbiConstant(string TypeName, string MemberName, Type ValueType, object Value);
