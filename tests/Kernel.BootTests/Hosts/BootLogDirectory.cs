using System.Text;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// Where a boot's full logs are kept: &lt;root&gt;/&lt;host&gt;/&lt;label&gt;/ (serial.log, host.log),
/// by default under the test assembly's folder (bin/, never committed). Each run of a label
/// replaces that label's logs.
/// </summary>
public static class BootLogDirectory
{
    /// <summary>The default root: boot-logs/ beside the test assembly.</summary>
    public static string DefaultRoot => Path.Combine(AppContext.BaseDirectory, "boot-logs");

    /// <summary>Creates (emptied) the folder for <paramref name="label"/> and returns its path.</summary>
    public static string Prepare(string root, string hostName, string label)
    {
        var directory = Path.Combine(root, hostName, Sanitize(label));
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Keeps letters, digits, '.', '-' and '_'; anything else becomes '_'.</summary>
    public static string Sanitize(string label)
    {
        var builder = new StringBuilder(label.Length);
        foreach (var c in label)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        return builder.Length == 0 ? "boot" : builder.ToString();
    }
}
