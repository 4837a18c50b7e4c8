using System.Runtime.InteropServices;

namespace Klp.Build.Dwarf;

// The index's storage: flat arrays of plain structs (no per-entry objects), written to and read from the cache
// file as they are. String fields are ids into the index's string pool (0 is the empty string / absent).

[Flags]
internal enum FunctionFlags : ushort
{
    None = 0,
    External = 1,
    Declaration = 2,
    HasCode = 4,
    ConcreteInstance = 8,
    Artificial = 16,
    Prototyped = 32,
    /// <summary>The abstract origin could not be found (outside the file's units, or a broken chain).</summary>
    OriginMissing = 64,
}

[Flags]
internal enum ParameterFlags : byte
{
    None = 0,
    HasLocation = 1,
    Constant = 2,
    Artificial = 4,
    Variadic = 8,
}

[StructLayout(LayoutKind.Sequential)]
internal struct FunctionRow
{
    public ulong Offset, Origin, Specification, LowPc;
    public int Name, LinkageName, DeclFile, ReturnType, DeclLine, Unit;
    public int ParamStart, ParamCount, ConcreteStart, ConcreteCount, RangeStart, RangeCount;
    public FunctionFlags Flags;
    public byte Inline;
    public byte Reserved;
    public int Reserved2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ParameterRow
{
    public int Name, Type;
    public ParameterFlags Flags;
    public byte Reserved0;
    public ushort Reserved1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct InlinedRow
{
    public ulong Offset, CalleeOffset, EntryPc;
    /// <summary>The callee's function id (the end of the abstract-origin chain), or -1.</summary>
    public int Callee;
    /// <summary>The concrete function whose code holds this copy, or -1 (an inlined copy inside an abstract instance).</summary>
    public int Function;
    public int CallFile, CallLine, RangeStart, RangeCount, Unit, Reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal struct UnitRow
{
    public ulong Offset;
    public int Name, CompDir, Producer, Version;
}
