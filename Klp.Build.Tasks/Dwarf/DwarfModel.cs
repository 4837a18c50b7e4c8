namespace Klp.Build.Dwarf;

/// <summary>
/// A formal parameter: its name and normalized C type ("struct seq_file *", "..." for variadic functions).
/// For a concrete instance (e.g. an .isra/.constprop clone) <see cref="HasLocation"/> says the value is passed
/// and lives somewhere, <see cref="IsConstant"/> that IPA-CP folded it to a constant (it is no longer passed);
/// neither means it was optimized out.
/// </summary>
public sealed record DwarfParameter(string Name, string Type, bool HasLocation, bool IsConstant, bool IsArtificial)
{
    public bool IsVariadic => Type == "...";
    public override string ToString() => IsVariadic || Name.Length == 0 ? Type : Type.EndsWith('*') ? Type + Name : $"{Type} {Name}";
}

/// <summary>A compile unit: DW_AT_name, DW_AT_comp_dir, DW_AT_producer, DWARF version and header offset.</summary>
public sealed record DwarfCompileUnit(int Id, string Name, string CompDir, string Producer, int Version, ulong Offset);

/// <summary>
/// One DW_TAG_subprogram DIE. Concrete instances (a DW_AT_abstract_origin to the abstract DIE, as gcc emits for
/// out-of-line copies of inline functions and for .isra/.constprop/.part clones) carry the abstract DIE's name,
/// declaration and prototype in <see cref="Parameters"/>/<see cref="ReturnType"/>, and their own formal
/// parameters, as the clone really has them, in <see cref="ConcreteParameters"/>.
/// </summary>
public sealed record DwarfFunction(
    int Id,
    string Name,
    string? LinkageName,
    string? DeclFile,
    int DeclLine,
    bool IsExternal,
    bool IsDeclaration,
    DwarfInline Inline,
    bool IsConcreteInstance,
    IReadOnlyList<DwarfAddressRange> Ranges,
    DwarfCompileUnit CompileUnit,
    string ReturnType,
    IReadOnlyList<DwarfParameter> Parameters,
    IReadOnlyList<DwarfParameter>? ConcreteParameters,
    ulong DieOffset,
    ulong AbstractOriginOffset)
{
    /// <summary>Whether this DIE describes machine code (low_pc/high_pc or ranges).</summary>
    public bool HasCode => Ranges.Count > 0;

    public bool IsStatic => !IsExternal;

    /// <summary>The lowest address of its code, or 0 without code.</summary>
    public ulong LowAddress => Ranges.Count == 0 ? 0 : Ranges.Min(r => r.Start);

    /// <summary>The C prototype: "int cmdline_proc_show(struct seq_file *m, void *v)".</summary>
    public string Prototype => Format(Parameters);

    /// <summary>The prototype as the concrete code has it (constant-folded and removed parameters left out).</summary>
    public string? ConcretePrototype => ConcreteParameters is null ? null : Format(ConcreteParameters.Where(p => p.HasLocation || p.IsVariadic).ToList());

    private string Format(IReadOnlyList<DwarfParameter> parameters)
    {
        var list = parameters.Count == 0 ? "void" : string.Join(", ", parameters);
        return ReturnType.EndsWith('*') ? $"{ReturnType}{Name}({list})" : $"{ReturnType} {Name}({list})";
    }

    /// <summary>Parameter types only: "struct seq_file *, void *".</summary>
    public string ParameterTypes => string.Join(", ", Parameters.Select(p => p.Type));

    public override string ToString() => $"{Prototype} [{(HasCode ? $"0x{LowAddress:x}" : Inline != DwarfInline.None ? "abstract" : IsDeclaration ? "declaration" : "no code")}] ({CompileUnit.Name})";
}

/// <summary>
/// One DW_TAG_inlined_subroutine: a copy of <see cref="CalleeName"/> inlined into the concrete function
/// <see cref="ContainingFunction"/> (null when it sits in an abstract instance), called from CallFile:CallLine.
/// </summary>
public sealed record DwarfInlinedCopy(
    int Id,
    string CalleeName,
    int CalleeId,
    ulong CalleeDieOffset,
    string? ContainingFunction,
    int ContainingFunctionId,
    ulong ContainingFunctionLowAddress,
    string? CallFile,
    int CallLine,
    ulong EntryPc,
    IReadOnlyList<DwarfAddressRange> Ranges,
    DwarfCompileUnit CompileUnit,
    ulong DieOffset)
{
    public override string ToString() => $"{CalleeName} inlined into {ContainingFunction ?? "?"} at {CallFile}:{CallLine} (0x{EntryPc:x})";
}
