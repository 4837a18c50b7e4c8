using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;

namespace Klp.Build.Registration;

/// <summary>Checks a definition against what the kernel's livepatch core and C accept, before anything is generated.</summary>
public static partial class LivepatchDefinitionValidator
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex CIdentifier();

    /// <summary>Module names as the kernel stores them: no '-' (it becomes '_') and, for .klp.rela parsing, no '.'.</summary>
    public static string NormalizeObjectName(string name) => name.Trim().Replace('-', '_');

    public static void Validate(LivepatchDefinition definition, string? projectFile, DiagnosticBag diagnostics)
    {
        if (!CIdentifier().IsMatch(definition.ModuleName))
            diagnostics.Error("KLP2012", $"module name '{definition.ModuleName}' is not usable as a kernel module name: set ModuleName to letters, digits and '_'.", projectFile);
        if (definition.Functions.Count == 0)
            diagnostics.Error("KLP2011", "the project patches no function: add <PatchedFunction Include=\"kernel_function\" Replacement=\"my_function\" />, or set GenerateLivepatchRegistration to false and register the patch in C.", projectFile);

        foreach (var function in definition.Functions)
        {
            if (function.Name.Length == 0 || function.Name.IndexOfAny(['"', '\\', ',', ' ']) >= 0)
                diagnostics.Error("KLP2013", $"PatchedFunction '{function.Name}' is not a kernel symbol name.", projectFile);
            if (function.Replacement.Length == 0)
                diagnostics.Error("KLP2008", $"PatchedFunction '{function.Name}' has no Replacement: add Replacement=\"the_function_in_your_sources\".", projectFile);
            else if (!CIdentifier().IsMatch(function.Replacement))
                diagnostics.Error("KLP2013", $"Replacement '{function.Replacement}' of PatchedFunction '{function.Name}' is not a C identifier.", projectFile);
            CheckObject(function.Object, $"PatchedFunction '{function.Name}'", projectFile, diagnostics);
            if (function.Position < 0)
                diagnostics.Error("KLP2013", $"PatchedFunction '{function.Name}' has Position {function.Position}: positions count occurrences from 1, 0 means the name is unique.", projectFile);
        }

        // The kernel names a klp_func by old_sympos ?: 1, so positions 0 and 1 of one name are the same function.
        foreach (var duplicate in definition.Functions.GroupBy(f => (f.Object, f.Name, Position: Math.Max(f.Position, 1))).Where(g => g.Count() > 1))
            diagnostics.Error("KLP2014", $"PatchedFunction '{duplicate.Key.Name}' in {duplicate.Key.Object} is listed {duplicate.Count()} times: keep one.", projectFile);

        foreach (var callback in definition.Callbacks)
        {
            if (!CIdentifier().IsMatch(callback.Function))
                diagnostics.Error("KLP2013", $"LivepatchCallback '{callback.Function}' is not a C identifier.", projectFile);
            CheckObject(callback.Object, $"LivepatchCallback '{callback.Function}'", projectFile, diagnostics);
        }
        foreach (var twice in definition.Callbacks.GroupBy(c => (c.Object, c.Kind)).Where(g => g.Count() > 1))
            diagnostics.Error("KLP2010", $"{twice.Count()} LivepatchCallbacks of kind {twice.Key.Kind} for {twice.Key.Object}: the kernel takes one of each kind per object.", projectFile);
        foreach (var orphan in definition.Callbacks.Where(c => definition.Functions.All(f => f.Object != c.Object)))
            diagnostics.Warning("KLP2015", $"LivepatchCallback '{orphan.Function}' is for object {orphan.Object}, which the project patches no function in: it runs only if that object is patched.", projectFile);
    }

    private static void CheckObject(string name, string what, string? projectFile, DiagnosticBag diagnostics)
    {
        if (name != PatchedFunction.Vmlinux && (name.Length == 0 || name.Length > 55 || !CIdentifier().IsMatch(name)))
            diagnostics.Error("KLP2013", $"{what} names object '{name}': an object is vmlinux or a module name (letters, digits, '_', at most 55 characters).", projectFile);
    }

    public static bool TryParseKind(string text, out CallbackKind kind) => Enum.TryParse(text, ignoreCase: true, out kind);
}
