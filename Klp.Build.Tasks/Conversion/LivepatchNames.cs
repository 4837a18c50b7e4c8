using System.Globalization;

namespace Klp.Build.Conversion;

/// <summary>A symbol of a target object at a sympos: what a livepatch relocation resolves to.</summary>
/// <param name="Object">"vmlinux" or a module name (no '.').</param>
/// <param name="Name">The symbol name (no ',').</param>
/// <param name="Position">sympos: 0 for a name unique in its object, else the N-th occurrence counting from 1.</param>
public sealed record LivepatchTarget(string Object, string Name, int Position)
{
    /// <summary>The livepatch symbol name, ".klp.sym.&lt;object&gt;.&lt;name&gt;,&lt;position&gt;".</summary>
    public string SymbolName => LivepatchNames.SymbolName(Object, Name, Position);

    public bool IsVmlinux => Object == LivepatchNames.Vmlinux;

    public override string ToString() => SymbolName;
}

/// <summary>The names the kernel's livepatch core parses, with its exact limits (sscanf formats in kernel/livepatch/core.c).</summary>
public static class LivepatchNames
{
    public const string Vmlinux = "vmlinux";
    public const string SymbolPrefix = ".klp.sym.";
    /// <summary>KLP_RELOC_SYMBOL_POS (SUSE minimal klp-convert): ".klp.sym.rela.&lt;lp_obj&gt;.&lt;sym_obj&gt;.&lt;name&gt;,&lt;pos&gt;".</summary>
    public const string SymbolRelaPrefix = ".klp.sym.rela.";
    public const string RelaPrefix = ".klp.rela.";
    public const string AnnotationPrefix = ".klp.module_relocs.";

    /// <summary>"%55[^.]": MODULE_NAME_LEN - 1 on 64-bit.</summary>
    public const int MaxObjectLength = 55;

    /// <summary>"%511[^,]": KSYM_NAME_LEN - 1.</summary>
    public const int MaxSymbolLength = 511;

    public static string SymbolName(string obj, string name, int position) =>
        string.Create(CultureInfo.InvariantCulture, $"{SymbolPrefix}{obj}.{name},{position}");

    public static string RelaSectionName(string obj, string section) => RelaPrefix + obj + "." + section;

    /// <summary>Why an object name cannot be used in a livepatch name, or null when it can.</summary>
    public static string? ObjectNameProblem(string obj) =>
        obj.Length == 0 ? "the object name is empty"
        : obj.Contains('.') ? $"object name '{obj}' contains '.'"
        : obj.Length > MaxObjectLength ? $"object name '{obj}' is longer than {MaxObjectLength} characters"
        : null;

    /// <summary>Why a symbol name cannot be used in a livepatch name, or null when it can.</summary>
    public static string? SymbolNameProblem(string name) =>
        name.Length == 0 ? "the symbol name is empty"
        : name.Contains(',') ? $"symbol name '{name}' contains ','"
        : name.Length > MaxSymbolLength ? $"symbol name '{name[..40]}...' is longer than {MaxSymbolLength} characters"
        : null;

    /// <summary>
    /// Parses ".klp.sym.&lt;obj&gt;.&lt;name&gt;,&lt;pos&gt;" the way the kernel does, and also the
    /// KLP_RELOC_SYMBOL_POS form ".klp.sym.rela.&lt;lp_obj&gt;.&lt;obj&gt;.&lt;name&gt;,&lt;pos&gt;" (then
    /// <paramref name="sectionObject"/> is lp_obj: the object whose .klp.rela section gets the relocations).
    /// </summary>
    public static bool TryParseSymbol(string text, bool allowRelaForm, out LivepatchTarget? target, out string? sectionObject, out string? problem)
    {
        target = null;
        sectionObject = null;
        problem = null;
        if (!text.StartsWith(SymbolPrefix, StringComparison.Ordinal))
        {
            problem = $"'{text}' does not start with '{SymbolPrefix}'";
            return false;
        }
        var rest = text[SymbolPrefix.Length..];
        if (allowRelaForm && text.StartsWith(SymbolRelaPrefix, StringComparison.Ordinal))
        {
            rest = text[SymbolRelaPrefix.Length..];
            var dot = rest.IndexOf('.');
            if (dot <= 0)
            {
                problem = $"'{text}' has no livepatched object after '{SymbolRelaPrefix}' (KLP_RELOC_SYMBOL_POS form: .klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>)";
                return false;
            }
            sectionObject = rest[..dot];
            if (ObjectNameProblem(sectionObject) is { } p)
            {
                problem = $"'{text}': {p}";
                return false;
            }
            rest = rest[(dot + 1)..];
        }
        var objEnd = rest.IndexOf('.');
        var comma = rest.LastIndexOf(',');
        if (objEnd <= 0 || comma < objEnd + 2)
        {
            problem = $"'{text}' is not of the form .klp.sym.<object>.<symbol>,<position>";
            return false;
        }
        var obj = rest[..objEnd];
        var name = rest[(objEnd + 1)..comma];
        var number = rest[(comma + 1)..];
        if ((ObjectNameProblem(obj) ?? SymbolNameProblem(name)) is { } q)
        {
            problem = $"'{text}': {q}";
            return false;
        }
        if (number.Length == 0 || number.Length > 9 || !number.All(char.IsAsciiDigit))
        {
            problem = $"'{text}' has position '{number}', not a decimal number";
            return false;
        }
        target = new LivepatchTarget(obj, name, int.Parse(number, CultureInfo.InvariantCulture));
        sectionObject ??= obj;
        return true;
    }

    /// <summary>The object of a ".klp.rela.&lt;obj&gt;.&lt;section&gt;" name, as the kernel reads it ("%55[^.]"), or null.</summary>
    public static string? RelaSectionObject(string sectionName)
    {
        if (!sectionName.StartsWith(RelaPrefix, StringComparison.Ordinal)) return null;
        var rest = sectionName[RelaPrefix.Length..];
        var dot = rest.IndexOf('.');
        var obj = dot < 0 ? rest : rest[..dot];
        return obj.Length is 0 or > MaxObjectLength ? null : obj;
    }
}
