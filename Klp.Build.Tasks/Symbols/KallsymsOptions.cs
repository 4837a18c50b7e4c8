using Klp.Build.Kernels;

namespace Klp.Build.Symbols;

/// <summary>
/// The kernel configuration that decides which symbols kallsyms keeps.
/// <paramref name="AllSymbols"/>: CONFIG_KALLSYMS_ALL (data symbols too, not only text);
/// <paramref name="AbsolutePercpu"/>: CONFIG_KALLSYMS_ABSOLUTE_PERCPU (per-cpu symbols count as absolute when
/// kallsyms breaks address ties); <paramref name="ModuleUnload"/>: CONFIG_MODULE_UNLOAD (.exit sections of a
/// module stay loaded); <paramref name="MaxNameLength"/>: KSYM_NAME_LEN (longer names are dropped).
/// </summary>
public sealed record KallsymsOptions(bool AllSymbols = true, bool AbsolutePercpu = true, bool ModuleUnload = true, int MaxNameLength = 512)
{
    /// <summary>Debian's amd64 kernels: KALLSYMS_ALL, ABSOLUTE_PERCPU and MODULE_UNLOAD all on.</summary>
    public static KallsymsOptions Default { get; } = new();

    public static KallsymsOptions FromConfig(KernelConfig config) => new(
        config.IsEnabled("CONFIG_KALLSYMS_ALL"),
        config.IsEnabled("CONFIG_KALLSYMS_ABSOLUTE_PERCPU"),
        config.IsEnabled("CONFIG_MODULE_UNLOAD"));

    /// <summary>A short stable text for cache keys.</summary>
    public string Key => $"all={AllSymbols};percpu={AbsolutePercpu};unload={ModuleUnload};len={MaxNameLength}";
}
