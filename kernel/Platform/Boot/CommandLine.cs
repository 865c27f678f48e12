namespace HekiGuest.Platform.Boot;

// key=value words separated by spaces. Words without '=' (GRUB may pass the image path) are
// kept as flags. Values are returned as strings (allocation at boot is fine).
public sealed unsafe class CommandLine
{
    private readonly string _text;

    public CommandLine(string text)
    {
        _text = text ?? "";
    }

    public string Text => _text;

    public string Get(string key)
    {
        int i = 0;
        while (i < _text.Length)
        {
            while (i < _text.Length && _text[i] == ' ') i++;
            int start = i;
            while (i < _text.Length && _text[i] != ' ') i++;
            int len = i - start;
            if (len > key.Length && _text[start + key.Length] == '=')
            {
                bool match = true;
                for (int k = 0; k < key.Length; k++)
                    if (_text[start + k] != key[k]) { match = false; break; }
                if (match) return _text.Substring(start + key.Length + 1, len - key.Length - 1);
            }
        }
        return null;
    }

    public const long Absent = -1;
    public const long Malformed = -2;

    // Parses a non-negative decimal: Absent when the key is missing, Malformed when its value is
    // not a number.
    public long GetNumber(string key)
    {
        string v = Get(key);
        if (v is null) return Absent;
        if (v.Length == 0 || v.Length > 18) return Malformed;
        long n = 0;
        for (int i = 0; i < v.Length; i++)
        {
            char c = v[i];
            if (c < '0' || c > '9') return Malformed;
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
