using System.Globalization;
using Klp.Build.Processes;

namespace Klp.Build.Tests.Elf;

/// <summary>Builds small objects with the host toolchain and reads them back with binutils' readelf, an independent reader.</summary>
internal sealed class Binutils : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("klp-elf-").FullName;

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>Runs a tool, failing the test with a hint about the Debian package when it is missing.</summary>
    public static string Run(string tool, string package, params string[] arguments)
    {
        if (ProcessRunner.FindOnPath(tool) is null)
            throw new InvalidOperationException($"{tool} is not installed: apt-get install {package}");
        var result = ProcessRunner.Run(tool, arguments, timeout: TimeSpan.FromMinutes(1));
        if (!result.Succeeded) throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed: {result.StandardError}");
        return result.StandardOutput;
    }

    public string CompileC(string name, string source, params string[] flags)
    {
        var c = Path.Combine(Directory, name + ".c");
        var o = Path.Combine(Directory, name + ".o");
        File.WriteAllText(c, source);
        Run("gcc", flags.Contains("-m32") ? "gcc-multilib" : "gcc", [.. flags, "-c", c, "-o", o]);
        return o;
    }

    public string Assemble(string tool, string package, string name, string source, params string[] flags)
    {
        var s = Path.Combine(Directory, name + ".s");
        var o = Path.Combine(Directory, name + ".o");
        File.WriteAllText(s, source);
        Run(tool, package, [.. flags, s, "-o", o]);
        return o;
    }

    public static string Readelf(params string[] arguments) => Run("readelf", "binutils", ["-W", .. arguments]);

    public sealed record Section(int Index, string Name, string Type, ulong Address, ulong Offset, ulong Size, ulong EntrySize, string Flags, uint Link, uint Info, ulong Alignment);

    public sealed record Symbol(int Index, ulong Value, ulong Size, string Type, string Bind, string Visibility, string SectionIndex, string Name);

    public sealed record Relocation(ulong Offset, ulong Info, string Type, string SymbolName, long Addend);

    public static List<Section> Sections(string path)
    {
        var list = new List<Section>();
        foreach (var line in Readelf("-S", path).Split('\n'))
        {
            var close = line.IndexOf(']');
            if (!line.TrimStart().StartsWith('[') || close < 0 || line.Contains("Nr]")) continue;
            var index = int.Parse(line[(line.IndexOf('[') + 1)..close].Trim(), CultureInfo.InvariantCulture);
            if (index == 0) continue;
            var t = line[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var flags = t.Length == 10 ? t[6] : "";
            var rest = t.Length == 10 ? t[7..] : t[6..];
            list.Add(new Section(index, t[0], t[1], Hex(t[2]), Hex(t[3]), Hex(t[4]), Hex(t[5]), flags,
                uint.Parse(rest[0], CultureInfo.InvariantCulture), uint.Parse(rest[1], CultureInfo.InvariantCulture), ulong.Parse(rest[2], CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <summary>The symbols of .symtab (readelf -s), in table order.</summary>
    public static List<Symbol> Symbols(string path)
    {
        var list = new List<Symbol>();
        var inSymtab = false;
        foreach (var line in Readelf("-s", path).Split('\n'))
        {
            if (line.StartsWith("Symbol table", StringComparison.Ordinal)) inSymtab = line.Contains("'.symtab'");
            if (!inSymtab) continue;
            var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (t.Length < 7 || !t[0].EndsWith(':') || !int.TryParse(t[0].TrimEnd(':'), out var index)) continue;
            // Ndx may be two tokens for OS-specific indices, e.g. "OS [0xff20]".
            var ndxEnd = 6;
            if (t.Length > 7 && t[7].StartsWith('[') && !t[6].StartsWith('[')) ndxEnd = 7;
            var ndx = string.Join(' ', t[6..(ndxEnd + 1)]);
            var name = t.Length > ndxEnd + 1 ? t[ndxEnd + 1] : "";
            var size = t[2].StartsWith("0x", StringComparison.Ordinal) ? Hex(t[2][2..]) : ulong.Parse(t[2], CultureInfo.InvariantCulture);
            list.Add(new Symbol(index, Hex(t[1]), size, t[3], t[4], t[5], ndx, name));
        }
        return list;
    }

    /// <summary>Relocations per section name (readelf -r).</summary>
    public static Dictionary<string, List<Relocation>> Relocations(string path)
    {
        var result = new Dictionary<string, List<Relocation>>();
        List<Relocation>? current = null;
        foreach (var line in Readelf("-r", path).Split('\n'))
        {
            if (line.StartsWith("Relocation section '", StringComparison.Ordinal))
            {
                var name = line.Split('\'')[1];
                result[name] = current = [];
                continue;
            }
            var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (current is null || t.Length < 3 || !IsHex(t[0]) || !IsHex(t[1])) continue;
            long addend = 0;
            var symbol = "";
            var sign = Array.FindIndex(t, x => x is "+" or "-");
            if (sign > 0)
            {
                addend = (long)Hex(t[sign + 1]) * (t[sign] == "-" ? -1 : 1);
                symbol = sign > 4 ? t[4] : "";
            }
            else if (t.Length >= 5) symbol = t[4];
            else if (t.Length == 4) addend = (long)Hex(t[3]);
            current.Add(new Relocation(Hex(t[0]), Hex(t[1]), t[2], symbol, addend));
        }
        return result;
    }

    private static bool IsHex(string s) => s.Length > 0 && s.All(Uri.IsHexDigit);

    private static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
