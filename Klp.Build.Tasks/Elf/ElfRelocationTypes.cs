using System.Collections.Frozen;

namespace Klp.Build.Elf;

/// <summary>Names of relocation types, per machine (x86_64, i386, ppc64, ppc, s390/s390x, aarch64).</summary>
public static class ElfRelocationTypes
{
    private static readonly FrozenDictionary<ElfMachine, (FrozenDictionary<uint, string> Names, FrozenDictionary<string, uint> Types)> Tables =
        new Dictionary<ElfMachine, (FrozenDictionary<uint, string>, FrozenDictionary<string, uint>)>
        {
            [ElfMachine.X86_64] = Build(X86_64Relocations.Table),
            [ElfMachine.I386] = Build(I386Relocations.Table),
            [ElfMachine.Ppc64] = Build(Ppc64Relocations.Table),
            [ElfMachine.Ppc] = Build(PpcRelocations.Table),
            [ElfMachine.S390] = Build(S390Relocations.Table),
            [ElfMachine.AArch64] = Build(AArch64Relocations.Table),
        }.ToFrozenDictionary();

    /// <summary>The name of relocation <paramref name="type"/> on <paramref name="machine"/>, e.g. "R_X86_64_PLT32", or null when unknown.</summary>
    public static string? GetName(ElfMachine machine, uint type) =>
        Tables.TryGetValue(machine, out var t) && t.Names.TryGetValue(type, out var name) ? name : null;

    /// <summary>Like <see cref="GetName"/>, with a readable fallback ("R_&lt;machine&gt;_&lt;type&gt;") for unknown types.</summary>
    public static string Describe(ElfMachine machine, uint type) => GetName(machine, type) ?? $"R_{machine}_{type}";

    /// <summary>The type number for a name like "R_PPC64_REL24".</summary>
    public static bool TryGetType(ElfMachine machine, string name, out uint type)
    {
        type = 0;
        return Tables.TryGetValue(machine, out var t) && t.Types.TryGetValue(name, out type);
    }

    public static bool IsKnownMachine(ElfMachine machine) => Tables.ContainsKey(machine);

    private static (FrozenDictionary<uint, string>, FrozenDictionary<string, uint>) Build((uint Type, string Name)[] table)
    {
        var names = new Dictionary<uint, string>();
        var types = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var (type, name) in table)
        {
            names.TryAdd(type, name);
            types.TryAdd(name, type);
        }
        return (names.ToFrozenDictionary(), types.ToFrozenDictionary(StringComparer.Ordinal));
    }
}
