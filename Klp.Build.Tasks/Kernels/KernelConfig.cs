namespace Klp.Build.Kernels;

/// <summary>A kernel's .config: CONFIG_X=y|m|"text"|number; "# CONFIG_X is not set" means off.</summary>
public sealed class KernelConfig
{
    private readonly Dictionary<string, string> _values;

    private KernelConfig(Dictionary<string, string> values) => _values = values;

    public static KernelConfig Parse(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (!line.StartsWith("CONFIG_", StringComparison.Ordinal)) continue;
            var equals = line.IndexOf('=');
            if (equals <= 0) continue;
            var value = line[(equals + 1)..];
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
            values[line[..equals]] = value;
        }
        return new KernelConfig(values);
    }

    public static KernelConfig Load(string path) => Parse(File.ReadLines(path));

    public string? this[string name] => _values.GetValueOrDefault(name);

    /// <summary>Built in or as a module.</summary>
    public bool IsEnabled(string name) => this[name] is "y" or "m";
}
