using Iced.Intel;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Decoder = Iced.Intel.Decoder;

namespace Klp.Build.Analysis;

/// <summary>
/// The patch safety analysis: for every patched function, what the target's real binaries say about GCC's IPA
/// optimizations and ftrace, and what the author must do. Findings go into the report and, warnings and errors,
/// into the diagnostics. x86-64 code analysis (ICF thunks, IPA-RA, IPA-PURE-CONST) runs only for x86-64 targets.
/// </summary>
public static class LivepatchSafetyAnalyzer
{
    /// <summary>Call sites of one function examined for IPA-RA reliance (the rest are summarised).</summary>
    public const int MaxCallSites = 2000;

    public static SafetyReport Analyze(TargetFacts target, IReadOnlyList<PatchedFunctionRequest> requests, ElfFile? patchModule, DiagnosticBag diagnostics)
    {
        var patch = patchModule is null ? null : ObjectCode.FromElf(patchModule, "patch");
        var functions = new List<FunctionSafety>();
        foreach (var request in requests)
        {
            var findings = new List<SafetyFinding>();
            new Run(target, request, patchModule, patch, findings).Execute();
            foreach (var f in findings.Where(f => f.Severity != SafetySeverity.Info))
                diagnostics.Add(new Diagnostic(f.Code, f.Severity == SafetySeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning, f.Message));
            functions.Add(new FunctionSafety(request, findings));
        }
        return new SafetyReport(target.Release, functions);
    }

    private sealed class Run(TargetFacts target, PatchedFunctionRequest request, ElfFile? patchModule, ObjectCode? patch, List<SafetyFinding> findings)
    {
        private readonly string _label = request.ToString();

        private void Add(string code, SafetySeverity severity, string message, Dictionary<string, IReadOnlyList<string>>? details = null) =>
            findings.Add(new SafetyFinding(code, severity, _label, message, details));

        public void Execute()
        {
            if (UnsafeFunctions.Reason(request.Name) is { } why)
                Add(SafetyCodes.UnsafeToReplace, SafetySeverity.Error,
                    $"'{request.Name}' cannot be replaced by a livepatch: {why}. Patch the functions it calls (or its callers) instead.");

            if (target.Object(request.Object) is not { } facts)
            {
                Add(SafetyCodes.AnalysisIncomplete, SafetySeverity.Warning, $"the object '{request.Object}' of '{request.Name}' is not available to the safety analysis: nothing about it was checked.");
                return;
            }
            if (Resolve(facts) is not { } function) return;

            if (target.Dwarf.InlinedInto(facts.Name, request.Name) is { Count: > 0 } inliners)
                Add(SafetyCodes.InlinedIntoCallers, SafetySeverity.Warning,
                    $"'{request.Name}' is also inlined into {inliners.Count} function(s) of {facts.Name} ({Shorten(inliners)}): their copies stay old unless they are patched too.",
                    new() { ["inlinedInto"] = inliners });

            if (!facts.Code.HasFentry(function))
                Add(SafetyCodes.NotPatchableFtrace, SafetySeverity.Error,
                    $"'{request.Name}' at 0x{function.Address:x} ({function.Section}) has no ftrace call site in {facts.Name}'s mcount table: it is not patchable through ftrace (notrace/noinstr/__init). Patch a traceable caller instead.",
                    new() { ["section"] = [function.Section] });

            Clones(facts, function);
            if (facts.Code.IsX86_64)
            {
                IdenticalCode(facts, function);
                RegisterAllocation(facts, function);
            }
            else Add(SafetyCodes.AnalysisIncomplete, SafetySeverity.Info, $"the code analysis (ICF thunks, IPA-RA, IPA-PURE-CONST) supports x86_64 only; {facts.Name} is {facts.Code.Machine}.");

            if (request.ReplacementName is not null)
                findings.AddRange(target.Dwarf.CheckPrototype(new PrototypeCheck(request, CloneNames.BaseName(request.Name), CloneNames.IsClone(request.Name), patchModule, function.Address)));
        }

        /// <summary>Checks 1 and 6: the name must exist, and its position must say which occurrence is meant.</summary>
        private FunctionSymbol? Resolve(ObjectFacts facts)
        {
            var occurrences = facts.Occurrences(request.Name);
            if (occurrences.Count == 0)
            {
                var inliners = target.Dwarf.InlinedInto(facts.Name, request.Name);
                var clones = facts.Family(request.Name).Select(f => f.Name).Distinct().ToList();
                var details = new Dictionary<string, IReadOnlyList<string>>();
                if (inliners is { Count: > 0 }) details["inlinedInto"] = inliners;
                if (clones.Count > 0) details["clones"] = clones;
                var what = inliners is { Count: > 0 } ? $" it is inlined into {Shorten(inliners)}: patch those instead."
                    : clones.Count > 0 ? $" only its clones exist ({Shorten(clones)}): patch them instead."
                    : " it was fully inlined into its callers or removed as dead code: patch the functions that contain its inlined copies.";
                Add(SafetyCodes.NotInObject, SafetySeverity.Error, $"'{request.Name}' has no symbol in {facts.Name}:{what}", details);
                return null;
            }
            if (request.Position == 0 && occurrences.Count > 1)
            {
                var candidates = occurrences.Select(o => $"{request.Name},{o.Position} at 0x{o.Address:x}{(o.Function is { } f ? $" ({f.Section}, {f.Size} bytes)" : "")}").ToList();
                Add(SafetyCodes.Ambiguous, SafetySeverity.Error,
                    $"'{request.Name}' occurs {occurrences.Count} times in {facts.Name} and no position is given: say which one with its position (1 to {occurrences.Count}, kallsyms order).",
                    new() { ["candidates"] = candidates });
                return null;
            }
            if (request.Position > occurrences.Count)
            {
                Add(SafetyCodes.InvalidPosition, SafetySeverity.Error,
                    $"position {request.Position} of '{request.Name}' is beyond its {occurrences.Count} occurrence(s) in {facts.Name}.");
                return null;
            }
            var chosen = occurrences[Math.Max(request.Position, 1) - 1];
            if (chosen.Function is null)
                Add(SafetyCodes.NotInObject, SafetySeverity.Error, $"'{request.Name}' (position {chosen.Position}) in {facts.Name} is not a function.");
            return chosen.Function;
        }

        /// <summary>Check 3: GCC clones of the same function, and who calls each.</summary>
        private void Clones(ObjectFacts facts, FunctionSymbol function)
        {
            var baseName = CloneNames.BaseName(function.Name);
            var clones = facts.Family(baseName).Where(f => f.Name != function.Name).ToList();
            if (clones.Count == 0) return;
            var details = new Dictionary<string, IReadOnlyList<string>>();
            var described = new List<string>();
            foreach (var clone in clones)
            {
                var callers = Callers(facts, clone.Address).Where(c => c != clone.Name).ToList();
                details[$"callers of {clone.Name}"] = callers;
                described.Add($"{clone.Name} (called by {(callers.Count == 0 ? "nothing found" : Shorten(callers, 4))})");
            }
            details["clones"] = clones.Select(c => c.Name).ToList();
            var onlyOwnColdPart = clones.All(c => c.Name == function.Name + ".cold");
            Add(SafetyCodes.Clones, onlyOwnColdPart ? SafetySeverity.Info : SafetySeverity.Warning,
                onlyOwnColdPart
                    ? $"'{function.Name}' has a split-off cold part {clones[0].Name}, entered from it: the replacement takes its place too."
                    : $"GCC made {clones.Count} clone(s) of '{baseName}' in {facts.Name}: {string.Join("; ", described)}. Callers of a clone never reach '{function.Name}': the patch must also replace the clones (or those callers).",
                details);
        }

        /// <summary>Check 4: IPA-ICF aliases at the same address and thunks that only jump to the function.</summary>
        private void IdenticalCode(ObjectFacts facts, FunctionSymbol function)
        {
            var aliases = facts.Code.At(function.Address).Where(f => f.Name != function.Name).Select(f => f.Name).Distinct().ToList();
            var thunks = facts.Callers.CallsTo(function.Address).Where(c => c.Kind == CallKind.Jump)
                .Select(c => facts.Code.Containing(c.Site)).OfType<FunctionSymbol>()
                .Where(t => t.Address != function.Address && IsThunk(facts.Code, t, function.Address)).Select(t => t.Name).Distinct().ToList();
            if (aliases.Count == 0 && thunks.Count == 0) return;
            var details = new Dictionary<string, IReadOnlyList<string>>();
            if (aliases.Count > 0) details["aliases"] = aliases;
            if (thunks.Count > 0) details["thunks"] = thunks;
            Add(SafetyCodes.IdenticalCodeFolding, SafetySeverity.Warning,
                $"'{function.Name}' shares its code with {Shorten(aliases.Concat(thunks).ToList())} (IPA-ICF folding or an alias): patching it changes them all; make sure the replacement is right for each, or patch their callers instead.",
                details);
        }

        /// <summary>Check 7: IPA-RA (callers keep call-clobbered registers across the call) and IPA-PURE-CONST.</summary>
        private void RegisterAllocation(ObjectFacts facts, FunctionSymbol function)
        {
            var analyzer = new CodeEffectsAnalyzer(target.Vmlinux.Code);
            var original = analyzer.Analyze(facts.Code, function);
            var preserved = CallClobberedRegisters.All & ~original.Clobbered;
            var relying = new List<RelyingCall>();
            if (preserved != 0)
                foreach (var site in facts.Callers.CallsTo(function.Address).Where(c => c.Kind == CallKind.Call).Take(MaxCallSites))
                    if (IpaRaReliance.Check(facts.Code, site.Site, preserved) is { } relyingCall)
                        relying.Add(relyingCall);
            var relied = relying.Aggregate(0, (m, r) => m | r.Registers);

            FunctionSymbol? replacement = null;
            if (request.ReplacementName is { } replacementName)
            {
                replacement = patch?.Named(replacementName).FirstOrDefault();
                if (replacement is null && patch is not null)
                    Add(SafetyCodes.AnalysisIncomplete, SafetySeverity.Warning, $"the replacement '{replacementName}' of '{request.Name}' is not a function of the patch module: its registers and purity were not checked.");
            }
            var replaced = replacement is null ? null : new CodeEffectsAnalyzer(target.Vmlinux.Code).Analyze(patch!, replacement);

            if (relied != 0)
            {
                var details = new Dictionary<string, IReadOnlyList<string>>
                {
                    ["registers"] = CallClobberedRegisters.Names(relied),
                    ["callers"] = relying.Select(r => r.ToString()).ToList(),
                };
                if (replaced is null)
                    Add(SafetyCodes.IpaRaReliance, SafetySeverity.Warning,
                        $"{relying.Count} call site(s) of '{function.Name}' keep {string.Join(", ", CallClobberedRegisters.Names(relied))} across the call (IPA-RA: the original never writes them): the replacement must not write them either ({Shorten(relying.Select(r => r.Caller).Distinct().ToList())}).",
                        details);
                else if ((replaced.Clobbered & relied) is var broken and not 0)
                {
                    var victims = relying.Where(r => (r.Registers & broken) != 0).ToList();
                    details["callers"] = victims.Select(r => r.ToString()).ToList();
                    details["registers"] = CallClobberedRegisters.Names(broken);
                    if (replaced.Callees.Count > 0) details["replacementCalls"] = replaced.Callees.Distinct().ToList();
                    Add(SafetyCodes.IpaRaClobber, SafetySeverity.Error,
                        $"the replacement '{replacement!.Name}' clobbers {string.Join(", ", CallClobberedRegisters.Names(broken))}, which callers of '{function.Name}' keep across the call because the original never writes them (IPA-RA): {Shorten(victims.Select(r => r.Caller).Distinct().ToList())}. Keep the replacement from writing them (no calls, no use of those registers), or patch those callers too.",
                        details);
                }
            }

            if (replaced is not null && !original.WritesMemory && !original.Calls && (replaced.WritesMemory || replaced.Calls))
                Add(SafetyCodes.PurityChange, SafetySeverity.Warning,
                    $"'{function.Name}' neither writes memory nor calls anything, so GCC may have treated it as pure/const (dropping, merging or hoisting calls), but its replacement '{replacement!.Name}' {(replaced.WritesMemory ? "writes memory" : "calls other functions")}: those effects may not happen where the source says they do.",
                    new() { ["replacementCalls"] = replaced.Callees.Distinct().ToList() });
        }

        private static List<string> Callers(ObjectFacts facts, ulong address) =>
            facts.Callers.CallsTo(address).Select(c => facts.Code.Describe(c.Site)).Distinct().ToList();

        private static bool IsThunk(ObjectCode code, FunctionSymbol thunk, ulong target)
        {
            var bytes = code.Code(thunk);
            if (bytes.Length == 0 || bytes.Length > 64) return false;
            var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes.ToArray()), thunk.Address);
            var jumps = 0;
            while (decoder.IP < thunk.End)
            {
                decoder.Decode(out var instruction);
                if (instruction.IsInvalid) return false;
                if (instruction.Mnemonic is Mnemonic.Endbr64 or Mnemonic.Nop or Mnemonic.Int3) continue;
                if (instruction.FlowControl == FlowControl.Call && instruction.Op0Kind == OpKind.NearBranch64 && code.NameAt(instruction.NearBranch64) == "__fentry__") continue;
                if (instruction.FlowControl == FlowControl.UnconditionalBranch && instruction.Op0Kind == OpKind.NearBranch64 && instruction.NearBranch64 == target && jumps == 0)
                {
                    jumps++;
                    continue;
                }
                return false;
            }
            return jumps == 1;
        }

        private static string Shorten(IReadOnlyList<string> names, int shown = 8) =>
            string.Join(", ", names.Take(shown)) + (names.Count > shown ? $" and {names.Count - shown} more" : "");
    }
}
