using Iced.Intel;
using Decoder = Iced.Intel.Decoder;

namespace Klp.Build.Analysis;

/// <summary>What running a function may do, as far as IPA-RA and IPA-PURE-CONST care.</summary>
/// <param name="Clobbered">The call-clobbered registers (<see cref="CallClobberedRegisters"/> bits) it may write, itself or through what it calls.</param>
/// <param name="WritesMemory">It stores to memory other than its own stack frame.</param>
/// <param name="Calls">It calls or tail-jumps into other functions (ftrace's __fentry__ aside).</param>
/// <param name="Callees">The names of what it calls (directly), for reports.</param>
public sealed record CodeEffects(int Clobbered, bool WritesMemory, bool Calls, IReadOnlyList<string> Callees)
{
    public static CodeEffects Unknown { get; } = new(CallClobberedRegisters.All, true, true, ["<unknown>"]);
}

/// <summary>
/// Computes <see cref="CodeEffects"/> by disassembling a function body with Iced and following its direct calls,
/// tail jumps and jumps into split-off parts transitively (depth and count limited; beyond them, and at indirect
/// calls, retpoline thunks and static-call trampolines, everything counts as clobbered). A call into a module's
/// undefined symbol is followed into <paramref name="fallback"/> (vmlinux) by name when the name is unique there.
/// Calls to __fentry__ are ignored: the ftrace trampolines preserve every register.
/// </summary>
public sealed class CodeEffectsAnalyzer(ObjectCode? fallback = null, int maxDepth = 8, int maxFunctions = 400)
{
    private readonly Dictionary<(ObjectCode, ulong), CodeEffects> _memo = [];
    private readonly HashSet<(ObjectCode, ulong)> _inProgress = [];
    private int _analyzed;

    public CodeEffects Analyze(ObjectCode code, FunctionSymbol function) => Analyze(code, function, 0);

    private CodeEffects Analyze(ObjectCode code, FunctionSymbol function, int depth)
    {
        var key = (code, function.Address);
        if (_memo.TryGetValue(key, out var known)) return known;
        if (!_inProgress.Add(key)) return new CodeEffects(0, false, false, []); // recursion: the other frames cover it
        try
        {
            var result = depth > maxDepth || ++_analyzed > maxFunctions ? CodeEffects.Unknown : Compute(code, function, depth);
            _memo[key] = result;
            return result;
        }
        finally
        {
            _inProgress.Remove(key);
        }
    }

    private CodeEffects Compute(ObjectCode code, FunctionSymbol function, int depth)
    {
        var bytes = code.Code(function);
        if (bytes.Length == 0) return CodeEffects.Unknown;
        var clobbered = 0;
        var writesMemory = false;
        var calls = false;
        var callees = new List<string>();
        var factory = new InstructionInfoFactory();
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes.ToArray()), function.Address);
        while (decoder.IP < function.End)
        {
            decoder.Decode(out var instruction);
            if (instruction.IsInvalid) return CodeEffects.Unknown;
            var info = factory.GetInfo(instruction);
            foreach (var used in info.GetUsedRegisters())
                if (used.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite)
                    clobbered |= CallClobberedRegisters.Bit(used.Register);
            foreach (var memory in info.GetUsedMemory())
                if (memory.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite
                    && memory.Base != Register.RSP)
                    writesMemory = true;

            switch (instruction.FlowControl)
            {
                case FlowControl.Call or FlowControl.UnconditionalBranch or FlowControl.ConditionalBranch when instruction.Op0Kind == OpKind.NearBranch64:
                {
                    var target = instruction.NearBranch64;
                    var isCall = instruction.FlowControl == FlowControl.Call;
                    if (!isCall && function.Contains(target)) break; // a jump inside the body
                    var name = code.NameAt(target);
                    if (name == "__fentry__") break;
                    if (name == "__x86_return_thunk") break; // a return
                    var (effects, isOwnPart) = Callee(code, function, target, name, depth);
                    if (!isOwnPart)
                    {
                        calls = true;
                        callees.Add(name ?? code.Describe(target));
                    }
                    clobbered |= effects.Clobbered;
                    writesMemory |= effects.WritesMemory;
                    calls |= effects.Calls;
                    break;
                }
                case FlowControl.IndirectCall or FlowControl.IndirectBranch or FlowControl.Call or FlowControl.UnconditionalBranch:
                    return CodeEffects.Unknown with { Callees = [.. callees, "<indirect>"] };
            }
        }
        return new CodeEffects(clobbered, writesMemory, calls, callees);
    }

    private (CodeEffects Effects, bool IsOwnPart) Callee(ObjectCode code, FunctionSymbol caller, ulong target, string? name, int depth)
    {
        if (name is not null && IsOpaque(name)) return (CodeEffects.Unknown, false);
        if (code.ExternalName(target) is { } external)
        {
            if (fallback is null || fallback == code || fallback.Named(external) is not [var only]) return (CodeEffects.Unknown, false);
            return (Analyze(fallback, only, depth + 1), false);
        }
        if (code.Containing(target) is not { } callee) return (CodeEffects.Unknown, false);
        var ownPart = CloneNames.BaseName(callee.Name) == CloneNames.BaseName(caller.Name) && callee.Name.EndsWith(".cold", StringComparison.Ordinal);
        return (Analyze(code, callee, depth + 1), ownPart);
    }

    /// <summary>Code whose disassembly does not tell what runs: retpoline thunks, static-call trampolines, paravirt and BPF dispatchers.</summary>
    public static bool IsOpaque(string name) =>
        name.StartsWith("__x86_indirect_", StringComparison.Ordinal) || name.StartsWith("__SCT__", StringComparison.Ordinal)
        || name.StartsWith("__static_call", StringComparison.Ordinal) || name.StartsWith("bpf_dispatcher", StringComparison.Ordinal)
        || name.StartsWith("__x86_indirect_jump_thunk", StringComparison.Ordinal) || name == "__fentry__";
}
