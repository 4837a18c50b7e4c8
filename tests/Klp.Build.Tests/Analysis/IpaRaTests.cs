using System.Text.RegularExpressions;
using Klp.Build.Analysis;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Tests.Support;
using Xunit.Abstractions;

namespace Klp.Build.Tests.Analysis;

/// <summary>
/// IPA-RA on the real Debian 6.1 kernel: the analysis finds a function whose callers keep a call-clobbered register
/// across the call, objdump confirms it, and real replacements built with kbuild are judged by what they clobber.
/// </summary>
[Collection(Kernel61AnalysisCollection.Name)]
public sealed class IpaRaTests(Kernel61AnalysisFixture kernel, ITestOutputHelper output)
{
    private static readonly Dictionary<string, string[]> Aliases = new()
    {
        ["rcx"] = ["rcx", "ecx", "cx", "cl", "ch"], ["rdx"] = ["rdx", "edx", "dx", "dl", "dh"],
        ["rsi"] = ["rsi", "esi", "si", "sil"], ["rdi"] = ["rdi", "edi", "di", "dil"],
        ["r8"] = ["r8", "r8d", "r8w", "r8b"], ["r9"] = ["r9", "r9d", "r9w", "r9b"],
        ["r10"] = ["r10", "r10d", "r10w", "r10b"], ["r11"] = ["r11", "r11d", "r11w", "r11b"],
    };

    private static bool Mentions(string line, string register) =>
        Regex.IsMatch(line, $"%({string.Join('|', Aliases[register])})\\b");

    /// <summary>In AT&amp;T syntax the destination is the last operand: the register is read when it appears elsewhere (or inside a memory operand).</summary>
    private static bool Reads(string line, string register)
    {
        var operands = line.Split('\t').Last();
        var parts = Regex.Split(operands, @",(?![^(]*\))");
        return parts.Select((p, i) => (p, i)).Any(x => Mentions(x.p, register) && (x.i < parts.Length - 1 || x.p.Contains('(')));
    }

    private int _candidates;

    /// <summary>The register is the destination (last operand, not an address), or an instruction that writes implicitly names or implies it.</summary>
    private static bool Writes(string line, string register)
    {
        if (line.Contains("%es:(%rdi)") || line.Contains("%ds:(%rsi)")) return true; // string instructions
        if (Regex.IsMatch(line, @"\t(rep\S*|lock|cpuid|rdmsr|rdtsc|syscall|xchg\S*|xadd\S*|cmpxchg\S*|mul[bwlq]?|div[bwlq]?|idiv[bwlq]?|cqto|cltd)\s")) return true;
        var operands = line.Split('\t').Last();
        var parts = Regex.Split(operands, @",(?![^(]*\))");
        return parts.Length > 0 && Mentions(parts[^1], register) && !parts[^1].Contains('(');
    }

    private (FunctionSymbol Function, RelyingCall Call, string Register)? FindConfirmedReliance()
    {
        var vmlinux = kernel.Facts.Vmlinux;
        var analyzer = new CodeEffectsAnalyzer(vmlinux.Code);
        foreach (var function in vmlinux.Code.Functions)
        {
            // Any function will do (lib/xarray.c, lib/vsprintf.c... have none traced): the IPA-RA finding does not depend on ftrace.
            if (function.Size is < 8 or > 512 || CloneNames.IsClone(function.Name)) continue;
            if (vmlinux.Occurrences(function.Name) is not [_] || UnsafeFunctions.Reason(function.Name) is not null) continue;
            var sites = vmlinux.Callers.CallsTo(function.Address).Where(c => c.Kind == CallKind.Call).Take(50).ToList();
            if (sites.Count == 0) continue;
            var effects = analyzer.Analyze(vmlinux.Code, function);
            if (effects.Calls) continue; // a leaf, so that objdump of its own body is the whole proof
            var preserved = CallClobberedRegisters.All & ~effects.Clobbered;
            if (preserved == 0) continue;
            foreach (var site in sites)
            {
                if (IpaRaReliance.Check(vmlinux.Code, site.Site, preserved) is not { } call) continue;
                if (++_candidates <= 3) output.WriteLine($"candidate {function.Name}: {call}\n{string.Join('\n', kernel.Objdump(call.Site, call.ReadAt + 1))}");
                foreach (var register in call.RegisterNames)
                    if (ConfirmWithObjdump(function, call, register)) return (function, call, register);
            }
        }
        return null;
    }

    /// <summary>objdump: the function never names the register (and calls nothing); the caller reads it after the call, in straight-line code, before writing it.</summary>
    private bool ConfirmWithObjdump(FunctionSymbol function, RelyingCall call, string register)
    {
        var body = kernel.Objdump(function.Address, function.End);
        if (body.Count == 0 || body.Any(l => Writes(l, register))) return false;
        if (body.Any(l => Regex.IsMatch(l, @"\tcall ") && !l.Contains("<__fentry__>"))) return false;
        var after = kernel.Objdump(call.Site, call.ReadAt + 16);
        if (after.Count < 2 || !after[0].Contains($"<{function.Name}>")) return false;
        for (var i = 1; i < after.Count; i++)
        {
            var line = after[i];
            if (Regex.IsMatch(line, @"\t(call|jmp|ret|j[a-z]+) ")) return false; // straight-line code only
            if (Reads(line, register)) return line.TrimStart().StartsWith($"{call.ReadAt:x}:");
            if (Mentions(line, register)) return false; // written first
        }
        return false;
    }

    [Fact]
    public void ReplacementClobberingARegisterCallersKeepIsCaught()
    {
        var found = FindConfirmedReliance();
        output.WriteLine($"{_candidates} call sites relying on IPA-RA examined");
        found.ShouldNotBeNull("no function of the 6.1 kernel whose callers rely on IPA-RA was confirmed by objdump");
        var (function, call, register) = found.Value;
        output.WriteLine($"{function.Name} (0x{function.Address:x}) leaves {register} intact; {call}");
        output.WriteLine(string.Join('\n', kernel.Objdump(call.Site, call.ReadAt + 1)));

        var register32 = register.StartsWith('r') && char.IsDigit(register[1]) ? register + "d" : "e" + register[1..];
        var source = $$"""
            #include <linux/module.h>
            #include <linux/kernel.h>

            /* Leaves every call-clobbered register but rax alone, like the original. */
            noinline int klp_keeps_registers(void)
            {
                    return 0;
            }

            /* Writes {{register}}, which callers of {{function.Name}} keep across the call. */
            noinline int klp_clobbers_register(void)
            {
                    asm volatile("xorl %%{{register32}}, %%{{register32}}" ::: "{{register}}");
                    return 0;
            }

            MODULE_LICENSE("GPL");
            """;
        var module = TestKbuild.BuildModule(kernel.Release, "klp_ipara", source);
        var diagnostics = new DiagnosticBag();
        var patch = ElfReader.Read(module, diagnostics)!;

        var clobbering = LivepatchSafetyAnalyzer.Analyze(kernel.Facts, [new PatchedFunctionRequest(function.Name, ReplacementName: "klp_clobbers_register")], patch, diagnostics);
        output.WriteLine(clobbering.ToText());
        var error = clobbering.Findings.Single(f => f.Code == SafetyCodes.IpaRaClobber);
        error.Severity.ShouldBe(SafetySeverity.Error);
        error.Details!["registers"].ShouldContain(register);
        error.Details["callers"].ShouldContain(c => c.StartsWith(call.Caller + " "));
        diagnostics.Items.ShouldContain(d => d.Code == SafetyCodes.IpaRaClobber && d.IsError);

        var keeping = LivepatchSafetyAnalyzer.Analyze(kernel.Facts, [new PatchedFunctionRequest(function.Name, ReplacementName: "klp_keeps_registers")], patch, new DiagnosticBag());
        output.WriteLine(keeping.ToText());
        keeping.Findings.ShouldNotContain(f => f.Code == SafetyCodes.IpaRaClobber || f.Code == SafetyCodes.IpaRaReliance);

        // Without a replacement body, the author is told which registers to keep.
        kernel.Analyze(new PatchedFunctionRequest(function.Name)).Findings.ShouldContain(f => f.Code == SafetyCodes.IpaRaReliance);
    }

    [Fact]
    public void ReplacementThatCallsIntoTheKernelClobbersEverything()
    {
        var source = """
            #include <linux/module.h>
            #include <linux/kernel.h>
            noinline int klp_prints(void) { pr_info("hello\n"); return 0; }
            noinline int klp_plain(int x) { return x + 1; }
            MODULE_LICENSE("GPL");
            """;
        var module = TestKbuild.BuildModule(kernel.Release, "klp_effects", source);
        var patch = ObjectCode.FromElf(ElfReader.Read(module, new DiagnosticBag())!, "klp_effects");
        var analyzer = new CodeEffectsAnalyzer(kernel.Facts.Vmlinux.Code);
        var prints = analyzer.Analyze(patch, patch.Named("klp_prints").Single());
        prints.Calls.ShouldBeTrue();
        prints.Clobbered.ShouldBe(CallClobberedRegisters.All);
        var plain = analyzer.Analyze(patch, patch.Named("klp_plain").Single());
        output.WriteLine($"klp_prints: {string.Join(",", CallClobberedRegisters.Names(prints.Clobbered))} calls {string.Join(",", prints.Callees)}; klp_plain: {string.Join(",", CallClobberedRegisters.Names(plain.Clobbered))}");
        plain.Calls.ShouldBeFalse();
        plain.WritesMemory.ShouldBeFalse();
        plain.Clobbered.ShouldBe(0);
    }
}
