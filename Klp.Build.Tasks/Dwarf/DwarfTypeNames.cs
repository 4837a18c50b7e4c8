using System.Text;

namespace Klp.Build.Dwarf;

/// <summary>
/// Renders DWARF types as normalized C type strings: "int", "const char *", "struct seq_file *", "char **",
/// "unsigned char [16]", "int (*)(struct seq_file *, void *)", "void". Results are memoized per reference; cycles
/// and absurd nesting give "?".
/// </summary>
internal sealed class DwarfTypeNames(DwarfFile file)
{
    private const int MaxDepth = 24;
    private readonly Dictionary<ulong, string> _memo = [];

    public string Render(ulong reference) => Render(reference, 0);

    private string Render(ulong reference, int depth)
    {
        if (reference == 0) return "void";
        if (_memo.TryGetValue(reference, out var known)) return known;
        if (depth > MaxDepth) return "?";
        var text = RenderUncached(reference, depth);
        _memo[reference] = text;
        return text;
    }

    private string RenderUncached(ulong reference, int depth)
    {
        if (!TryRead(reference, out var unit, out var tag, out var hasChildren, out var d, out var children)) return "?";
        string Name(string fallback) => d.HasName ? file.String(unit, d.Name) ?? fallback : fallback;
        switch (tag)
        {
            case DwTag.BaseType or DwTag.Typedef or DwTag.UnspecifiedType:
                return Name("?");
            case DwTag.StructureType: return "struct " + Name("<anonymous>");
            case DwTag.UnionType: return "union " + Name("<anonymous>");
            case DwTag.EnumerationType: return "enum " + Name("<anonymous>");
            case DwTag.ClassType: return "class " + Name("<anonymous>");
            case DwTag.PointerType or DwTag.ReferenceType or DwTag.RvalueReferenceType:
            {
                var mark = tag == DwTag.PointerType ? "*" : tag == DwTag.ReferenceType ? "&" : "&&";
                if (d.Type != 0 && TryRead(d.Type, out var targetUnit, out var targetTag, out var targetChildren, out var target, out var targetAt)
                    && targetTag == DwTag.SubroutineType)
                    return Function(targetUnit, target, targetChildren, targetAt, "(" + mark + ")", depth);
                var inner = Render(d.Type, depth + 1);
                return inner.EndsWith('*') || inner.EndsWith('&') ? inner + mark : inner + " " + mark;
            }
            case DwTag.ConstType or DwTag.VolatileType or DwTag.RestrictType or DwTag.AtomicType:
            {
                var word = tag switch { DwTag.ConstType => "const", DwTag.VolatileType => "volatile", DwTag.RestrictType => "restrict", _ => "_Atomic" };
                var inner = Render(d.Type, depth + 1);
                if (inner.EndsWith('*')) return inner + word;
                if (inner.EndsWith(')')) return inner + " " + word;
                return word + " " + inner;
            }
            case DwTag.ArrayType:
            {
                var inner = Render(d.Type, depth + 1);
                var dims = new StringBuilder();
                if (hasChildren) Dimensions(unit, children, dims);
                if (dims.Length == 0) dims.Append("[]");
                return inner + " " + dims;
            }
            case DwTag.SubroutineType:
                return Function(unit, d, hasChildren, children, "", depth);
            default:
                return Name("?");
        }
    }

    private string Function(DwarfUnit unit, in DieAttributes d, bool hasChildren, int childrenAt, string declarator, int depth)
    {
        var result = Render(d.Type, depth + 1);
        var parameters = new List<string>();
        if (hasChildren)
        {
            var c = file.CursorFor(unit);
            c.Seek((ulong)childrenAt);
            var level = 0;
            while ((ulong)c.Position < unit.End)
            {
                var code = c.Uleb();
                if (code == 0)
                {
                    if (level-- == 0) break;
                    continue;
                }
                if (!unit.Abbrevs!.TryGet(code, out var a)) throw file.BadCode(unit, code, (ulong)c.Position);
                if (level == 0 && a.Tag == DwTag.FormalParameter)
                {
                    var p = new DieAttributes();
                    file.ReadAttributes(ref c, unit, a, ref p);
                    parameters.Add(Render(p.Type, depth + 1));
                }
                else
                {
                    DwarfFile.SkipAttributes(ref c, unit, a);
                    if (level == 0 && a.Tag == DwTag.UnspecifiedParameters) parameters.Add("...");
                }
                if (a.HasChildren) level++;
            }
        }
        var list = parameters.Count == 0 ? d.Prototyped ? "void" : "" : string.Join(", ", parameters);
        return declarator.Length == 0 ? $"{result} ({list})" : $"{result} {declarator}({list})";
    }

    private void Dimensions(DwarfUnit unit, int childrenAt, StringBuilder dims)
    {
        var c = file.CursorFor(unit);
        c.Seek((ulong)childrenAt);
        var level = 0;
        while ((ulong)c.Position < unit.End)
        {
            var code = c.Uleb();
            if (code == 0)
            {
                if (level-- == 0) break;
                continue;
            }
            if (!unit.Abbrevs!.TryGet(code, out var a)) throw file.BadCode(unit, code, (ulong)c.Position);
            var s = new DieAttributes();
            file.ReadAttributes(ref c, unit, a, ref s);
            if (level == 0 && a.Tag == DwTag.SubrangeType)
            {
                if (s.HasCount) dims.Append('[').Append(s.Count).Append(']');
                else if (s.HasUpperBound && s.UpperBound != ulong.MaxValue) dims.Append('[').Append(s.UpperBound + 1).Append(']');
                else dims.Append("[]");
            }
            if (a.HasChildren) level++;
        }
    }

    /// <summary>Decodes the DIE a reference points at: its tag, attributes, and where its children start.</summary>
    public bool TryRead(ulong reference, out DwarfUnit unit, out ushort tag, out bool hasChildren, out DieAttributes d, out int childrenAt)
    {
        d = default;
        tag = 0;
        hasChildren = false;
        childrenAt = 0;
        unit = file.FindUnit(reference)!;
        if (unit is null) return false;
        var c = file.CursorFor(unit);
        c.Seek(reference & ~DwarfFile.TypesSectionBit);
        var code = c.Uleb();
        if (code == 0 || !unit.Abbrevs!.TryGet(code, out var a)) return false;
        file.ReadAttributes(ref c, unit, a, ref d);
        tag = a.Tag;
        hasChildren = a.HasChildren;
        childrenAt = c.Position;
        return true;
    }
}
