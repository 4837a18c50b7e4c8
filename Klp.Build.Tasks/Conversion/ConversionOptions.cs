namespace Klp.Build.Conversion;

/// <summary>
/// A project-provided disambiguation, e.g. &lt;KernelSymbol Include="type_show" Object="vmlinux" Position="3" /&gt;.
/// </summary>
/// <param name="Symbol">The symbol name as the module references it.</param>
/// <param name="Object">"vmlinux" or a module name; null when the name exists in one object only.</param>
/// <param name="Position">sympos (from 1 among same-name symbols of the object, 0 for a unique name); null to pick only the object.</param>
public sealed record SymbolPosition(string Symbol, string? Object = null, int? Position = null);

/// <summary>What the project tells the converter beyond the module itself.</summary>
public sealed class ConversionOptions
{
    public static ConversionOptions Default => new();

    /// <summary>Positions given by the project (project items, command line).</summary>
    public IList<SymbolPosition> Positions { get; init; } = [];

    /// <summary>Where positions come from, for messages (e.g. the project file).</summary>
    public string PositionsSource { get; init; } = "the project";
}
