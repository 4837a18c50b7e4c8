using Klp.Build.Registration;

namespace Klp.Build.Packaging;

/// <summary>One patch module of a PerObject build: its own klp_patch for one patched object.</summary>
public sealed record PerObjectModule(string ModuleName, string Object, int LoadOrder, LivepatchDefinition Definition);

/// <summary>
/// LivepatchPackaging=PerObject: one patch module per patched object (vmlinux and each module), named
/// &lt;ModuleName&gt;_&lt;object&gt;, each with a klp_patch of its own. Load order: vmlinux first, then the modules in
/// the order the project names them. Atomic replace is off: a replacing patch would disable its siblings.
/// </summary>
public static class PerObjectSplit
{
    public static IReadOnlyList<PerObjectModule> Split(LivepatchDefinition definition) =>
        definition.Objects.Select((obj, index) => new PerObjectModule(
            ModuleNameFor(definition.ModuleName, obj), obj, index + 1,
            definition with
            {
                ModuleName = ModuleNameFor(definition.ModuleName, obj),
                Functions = definition.Functions.Where(f => f.Object == obj).ToList(),
                Callbacks = definition.Callbacks.Where(c => c.Object == obj).ToList(),
                AtomicReplace = false,
            })).ToList();

    public static string ModuleNameFor(string moduleName, string obj) => $"{moduleName}_{obj}";
}
