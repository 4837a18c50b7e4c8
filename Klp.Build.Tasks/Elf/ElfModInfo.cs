using System.Text;

namespace Klp.Build.Elf;

/// <summary>
/// A kernel module's .modinfo: NUL-separated "key=value" strings (name, vermagic, depends, license, alias...).
/// Keys may repeat (alias, depends in old kernels), so entries keep their order.
/// </summary>
public sealed class ElfModInfo
{
    public const string SectionName = ".modinfo";

    private ElfModInfo(IReadOnlyList<KeyValuePair<string, string>> entries) => Entries = entries;

    public IReadOnlyList<KeyValuePair<string, string>> Entries { get; }

    /// <summary>The first value of <paramref name="key"/>, or null.</summary>
    public string? this[string key] => Entries.FirstOrDefault(e => e.Key == key).Value;

    public IEnumerable<string> GetAll(string key) => Entries.Where(e => e.Key == key).Select(e => e.Value);

    public string? Name => this["name"];
    public string? VerMagic => this["vermagic"];
    public string? License => this["license"];

    /// <summary>"depends" split on commas (empty when the module depends on nothing).</summary>
    public IReadOnlyList<string> Depends =>
        (this["depends"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The .modinfo of <paramref name="file"/>, or null when it has none.</summary>
    public static ElfModInfo? Read(ElfFile file) =>
        file.FindSection(SectionName) is ElfRawSection section ? Parse(section.Data.Span) : null;

    /// <summary>Parses .modinfo bytes. Padding NULs are skipped; a string without '=' becomes a key with an empty value.</summary>
    public static ElfModInfo Parse(ReadOnlySpan<byte> data)
    {
        var entries = new List<KeyValuePair<string, string>>();
        while (data.Length > 0)
        {
            var end = data.IndexOf((byte)0);
            var item = end < 0 ? data : data[..end];
            if (item.Length > 0)
            {
                var text = Encoding.UTF8.GetString(item);
                var eq = text.IndexOf('=');
                entries.Add(eq < 0 ? new(text, "") : new(text[..eq], text[(eq + 1)..]));
            }
            data = end < 0 ? [] : data[(end + 1)..];
        }
        return new ElfModInfo(entries);
    }
}
