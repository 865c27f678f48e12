using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HekiGuest.Tools.AbiHeaderGen.Cli;
using HekiGuest.Tools.AbiHeaderGen.Model;

namespace HekiGuest.Tools.AbiHeaderGen.Generation;

/// <summary>
/// Reads the ABI from the compiled assembly: every public const of every public top-level class,
/// and every public struct with its size and field offsets (Marshal.SizeOf/OffsetOf, checked
/// against the managed size). Types and members come in metadata order, which is declaration order.
/// </summary>
public static class AbiReflector
{
    public static AbiModel Read(Assembly assembly)
    {
        var types = assembly.GetTypes().Where(t => t.IsPublic).OrderBy(t => t.MetadataToken).ToList();
        if (types.Count == 0)
        {
            throw new AbiGenException(ExitCodes.Unsupported, "the source declares no public type");
        }

        var namespaces = types.Select(t => t.Namespace ?? "").Distinct().ToList();
        if (namespaces.Count != 1)
        {
            throw new AbiGenException(ExitCodes.Unsupported, $"the public types must share one namespace, not {string.Join(", ", namespaces.Select(n => n.Length == 0 ? "(global)" : n))}");
        }

        var groups = new List<AbiConstantGroup>();
        var structs = new List<AbiStruct>();
        foreach (Type type in types)
        {
            if (type.IsEnum || type.IsInterface || typeof(Delegate).IsAssignableFrom(type))
            {
                throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}: only classes of constants and plain structs can go into the header");
            }

            if (type.IsValueType)
            {
                structs.Add(ReadStruct(type));
            }
            else
            {
                groups.Add(ReadConstants(type));
            }
        }

        return new AbiModel(namespaces[0], groups, structs);
    }

    private static AbiConstantGroup ReadConstants(Type type)
    {
        var constants = new List<AbiConstant>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (FieldInfo field in type.GetFields(all).OrderBy(f => f.MetadataToken))
        {
            if (!field.IsLiteral)
            {
                throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}.{field.Name}: public field is not a const (the header carries constants only)");
            }

            constants.Add(new AbiConstant(type.Name, field.Name, field.FieldType, field.GetRawConstantValue()!));
        }

        return new AbiConstantGroup(type.Name, constants);
    }

    private static AbiStruct ReadStruct(Type type)
    {
        if (type.IsGenericTypeDefinition || !(type.IsLayoutSequential || type.IsExplicitLayout))
        {
            throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}: an ABI struct needs sequential or explicit layout");
        }

        var fields = new List<AbiField>();
        const BindingFlags instance = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (FieldInfo field in type.GetFields(instance).OrderBy(f => f.MetadataToken))
        {
            if (!field.IsPublic)
            {
                throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}.{field.Name}: every field of an ABI struct must be public");
            }

            if (!CTypes.IsFieldType(field.FieldType))
            {
                throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}.{field.Name}: field type {field.FieldType.Name} has no fixed C equivalent (use byte, sbyte, short, ushort, int, uint, long or ulong)");
            }

            fields.Add(new AbiField(field.Name, field.FieldType, checked((int)Marshal.OffsetOf(type, field.Name)), ManagedSize(field.FieldType)));
        }

        if (fields.Count == 0)
        {
            throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}: an ABI struct needs at least one field (an empty struct has no C equivalent)");
        }

        int size = Marshal.SizeOf(type);
        if (size != ManagedSize(type))
        {
            throw new AbiGenException(ExitCodes.Unsupported, $"{type.Name}: marshalled size {size} differs from the managed size {ManagedSize(type)} (not blittable)");
        }

        return new AbiStruct(type.Name, size, fields);
    }

    private static int ManagedSize(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
}
