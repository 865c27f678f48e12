using System.Text;

namespace HekiGuest.Tools.AbiHeaderGen.Generation;

/// <summary>
/// C names derived from C# names, deterministically: identifiers split into words at a lower-case
/// letter or digit followed by an upper-case letter and at the last capital of an acronym
/// (digits stay with the word before them: Cr0PinAllowed = CR0 PIN ALLOWED, HekiV3 = HEKI V3).
/// Constants: HEKI_ + the type's words without its leading "Heki" + the member's words
/// (HekiMsr.Cr0PinAllowed = HEKI_MSR_CR0_PIN_ALLOWED). Structs and fields: lower-case words
/// (HekiRange = heki_range, PageCount = page_count).
/// </summary>
public static class CNames
{
    public const string Prefix = "HEKI";

    public static IReadOnlyList<string> Words(string identifier)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        for (int i = 0; i < identifier.Length; i++)
        {
            char c = identifier[i];
            if (c == '_')
            {
                Flush();
                continue;
            }

            if (char.IsUpper(c) && word.Length > 0)
            {
                char previous = identifier[i - 1];
                bool afterLowerOrDigit = char.IsLower(previous) || char.IsDigit(previous);
                bool endsAcronym = char.IsUpper(previous) && i + 1 < identifier.Length && char.IsLower(identifier[i + 1]);
                if (afterLowerOrDigit || endsAcronym)
                {
                    Flush();
                }
            }

            word.Append(c);
        }

        Flush();
        return words;

        void Flush()
        {
            if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }
    }

    public static string Constant(string typeName, string memberName)
    {
        var typeWords = Words(typeName).ToList();
        if (typeWords.Count > 0 && typeWords[0] == "Heki")
        {
            typeWords.RemoveAt(0);
        }

        return string.Join("_", new[] { Prefix }.Concat(typeWords).Concat(Words(memberName))).ToUpperInvariant();
    }

    public static string Struct(string typeName)
    {
        var words = Words(typeName).ToList();
        if (words.Count == 0 || words[0] != "Heki")
        {
            words.Insert(0, "Heki");
        }

        return string.Join("_", words).ToLowerInvariant();
    }

    public static string Field(string fieldName) => string.Join("_", Words(fieldName)).ToLowerInvariant();
}
