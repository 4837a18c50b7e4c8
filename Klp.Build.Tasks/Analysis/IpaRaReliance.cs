using Iced.Intel;
using Decoder = Iced.Intel.Decoder;

namespace Klp.Build.Analysis;

/// <summary>A call site whose code reads call-clobbered registers after the call before writing them (relying on IPA-RA).</summary>
public sealed record RelyingCall(string Caller, ulong Site, int Registers, ulong ReadAt)
{
    public IReadOnlyList<string> RegisterNames => CallClobberedRegisters.Names(Registers);
    public override string ToString() => $"{Caller} (call at 0x{Site:x}, reads {string.Join("/", RegisterNames)} at 0x{ReadAt:x})";
}

/// <summary>
/// Finds which of a set of registers the code after a call site reads before writing: every path from the
/// instruction after the call is followed (through direct jumps inside the caller and its .cold part) until the
/// register is written, the path returns, tail-calls or calls something else (then the ABI clobbers it anyway).
/// Bounded by an instruction budget per call site.
/// </summary>
public static class IpaRaReliance
{
    public static RelyingCall? Check(ObjectCode code, ulong site, int registers, int budget = 4000)
    {
        var factory = new InstructionInfoFactory();
        var after = DecodeAt(code, site) is { IsInvalid: false } call ? call.NextIP : 0;
        if (after == 0) return null;
        var relied = 0;
        var readAt = 0UL;
        var caller = code.Containing(site);
        var pending = new Stack<(ulong Ip, int Live)>();
        var seen = new HashSet<(ulong, int)>();
        pending.Push((after, registers));
        while (pending.Count > 0 && budget > 0)
        {
            var (ip, live) = pending.Pop();
            while (live != 0 && budget-- > 0 && seen.Add((ip, live)))
            {
                if (DecodeAt(code, ip) is not { IsInvalid: false } instruction) break;
                var zeroing = IsZeroingIdiom(instruction);
                var info = factory.GetInfo(instruction);
                var written = 0;
                foreach (var used in info.GetUsedRegisters())
                {
                    var bit = CallClobberedRegisters.Bit(used.Register) & live;
                    if (bit == 0) continue;
                    if (!zeroing && used.Access is OpAccess.Read or OpAccess.ReadWrite or OpAccess.CondRead or OpAccess.ReadCondWrite)
                    {
                        if (relied == 0) readAt = ip;
                        relied |= bit;
                    }
                    // Any write ends the tracking: a partial write (setne %dil) followed by a read of the same part is no reliance.
                    if (used.Access is OpAccess.Write or OpAccess.ReadWrite) written |= bit;
                }
                foreach (var memory in info.GetUsedMemory())
                {
                    var bits = (CallClobberedRegisters.Bit(memory.Base) | CallClobberedRegisters.Bit(memory.Index)) & live;
                    if (bits != 0 && relied == 0) readAt = ip;
                    relied |= bits;
                }
                live &= ~written & ~relied; // once relied on, a register need not be followed further
                var next = instruction.NextIP;
                switch (instruction.FlowControl)
                {
                    case FlowControl.Next:
                        ip = next;
                        continue;
                    case FlowControl.ConditionalBranch when instruction.Op0Kind == OpKind.NearBranch64:
                        pending.Push((instruction.NearBranch64, live));
                        ip = next;
                        continue;
                    case FlowControl.UnconditionalBranch when instruction.Op0Kind == OpKind.NearBranch64:
                        var target = instruction.NearBranch64;
                        var name = code.NameAt(target);
                        if (name == "__x86_return_thunk" || name is not null && CodeEffectsAnalyzer.IsOpaque(name) || code.ExternalName(target) is not null) live = 0;
                        // A tail call into another function ends the path: what it reads (a varargs prologue spills
                        // every argument register) is not evidence. Jumps into the caller's own .cold part go on.
                        else if (code.At(target) is [var entered, ..] && caller is not null
                                 && CloneNames.BaseName(entered.Name) != CloneNames.BaseName(caller.Name)) live = 0;
                        ip = target;
                        continue;
                    case FlowControl.Call when instruction.Op0Kind == OpKind.NearBranch64 && code.NameAt(instruction.NearBranch64) == "__fentry__":
                        ip = next;
                        continue;
                    default: // return, other calls, indirect branches, traps: the path ends
                        live = 0;
                        break;
                }
            }
        }
        return relied == 0 ? null : new RelyingCall(code.Describe(site), site, relied, readAt);
    }

    private static Instruction? DecodeAt(ObjectCode code, ulong ip)
    {
        var bytes = code.CodeAt(ip);
        if (bytes.Length == 0) return null;
        var slice = bytes.Length > 16 ? bytes[..16] : bytes;
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(slice.ToArray()), ip);
        decoder.Decode(out var instruction);
        return instruction;
    }

    /// <summary>xor/sub of a register with itself: only a write.</summary>
    private static bool IsZeroingIdiom(in Instruction instruction) =>
        instruction.Mnemonic is Mnemonic.Xor or Mnemonic.Sub or Mnemonic.Pxor or Mnemonic.Xorps or Mnemonic.Xorpd
        && instruction.OpCount == 2 && instruction.Op0Kind == OpKind.Register && instruction.Op1Kind == OpKind.Register
        && instruction.Op0Register == instruction.Op1Register;
}
