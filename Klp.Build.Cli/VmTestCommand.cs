using System.CommandLine;
using Klp.Build.Vm;

namespace Klp.Build.Cli;

/// <summary>
/// klp vm-test &lt;release&gt; &lt;module.ko&gt; --check "cmd[=&gt;expected]"...: boots the release's own vmlinuz in QEMU and
/// proves the module (unpatched, patched, disabled), as `dotnet build -t:Test` does.
/// </summary>
public static class VmTestCommand
{
    /// <summary>Separates a check's command from the text its patched output must contain.</summary>
    public const string ExpectSeparator = "=>";

    public static Command Create(CliConsole console)
    {
        var release = TargetOptions.Release();
        var module = new Argument<string>("module") { Description = "The livepatch module (.ko)" };
        var checks = new Option<string[]>("--check", "-c")
        {
            Description = $"A guest shell command run unpatched, patched and disabled, optionally '{ExpectSeparator}' the text its patched output must contain, e.g. 'cat /proc/cmdline{ExpectSeparator}live patched'; repeatable",
        };
        var scripts = new Option<string[]>("--check-script") { Description = "A script run in the guest with the phase (unpatched, patched, disabled) as $1; non-zero fails; repeatable" };
        var setup = new Option<string[]>("--setup") { Description = "A shell command run once after the patched modules load, before the first checks; repeatable" };
        var objects = new Option<string[]>("--object") { Description = "A module the patch targets: loaded (with its dependencies) from the target's linux-image first; repeatable" };
        var workDirectory = new Option<string?>("--work-dir") { Description = "Where the initramfs and console log go (default: a new temporary directory)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds the whole VM run may take", DefaultValueFactory = _ => 300 };
        var accelerator = new Option<string>("--accelerator") { Description = "auto, tcg or kvm", DefaultValueFactory = _ => "auto" };
        accelerator.AcceptOnlyFromAmong("auto", "tcg", "kvm");
        var memory = new Option<int>("--memory") { Description = "Guest memory in MiB", DefaultValueFactory = _ => 512 };
        var loadFirst = new Option<bool>("--load-patch-first") { Description = "Load the patch before the modules it patches (late patching)" };
        var cache = TargetOptions.CacheDirectory();
        var command = new Command("vm-test", "Boot a Debian kernel release in QEMU and prove a livepatch module live: checks unpatched, patched, disabled.")
        {
            release, module, checks, scripts, setup, objects, workDirectory, timeout, accelerator, memory, loadFirst, cache,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(console.Execute(diagnostics =>
        {
            var patchModule = Path.GetFullPath(parse.GetValue(module)!);
            if (!File.Exists(patchModule))
            {
                diagnostics.Error(KlpCommandLine.UsageError, $"the module '{patchModule}' does not exist.");
                return;
            }
            var vmChecks = (parse.GetValue(checks) ?? []).Select(ParseCheck).ToList();
            var checkScripts = (parse.GetValue(scripts) ?? []).Select(Path.GetFullPath).ToList();
            if (vmChecks.Count == 0 && checkScripts.Count == 0)
                diagnostics.Warning("KLP5012", "no --check or --check-script given: the VM proves only that the patch loads, enables and disables. Add --check 'cat /proc/cmdline=>expected text'.");
            var target = TargetOptions.Resolve(parse.GetValue(release)!, parse.GetValue(cache), console, cancellationToken);
            var work = parse.GetValue(workDirectory) is { } dir ? Path.GetFullPath(dir) : Directory.CreateTempSubdirectory("klp-vm-").FullName;
            var options = new VmProofOptions(vmChecks, work, parse.GetValue(objects), checkScripts, parse.GetValue(setup),
                parse.GetValue(timeout), parse.GetValue(accelerator)!, parse.GetValue(memory), parse.GetValue(loadFirst));
            var result = TargetVmProof.Run(target, patchModule, options, diagnostics, null, console.Progress, _ => { }, cancellationToken);
            if (result is null) return;
            console.Out.WriteLine(result.Transcript);
            console.Progress(result.Passed ? $"{Path.GetFileName(patchModule)} proven live in {target.Target.Release}." : $"Guest console log: {result.ConsoleLog}");
        })));
        return command;
    }

    public static VmCheck ParseCheck(string text)
    {
        var separator = text.IndexOf(ExpectSeparator, StringComparison.Ordinal);
        return separator < 0 ? new VmCheck(text.Trim()) : new VmCheck(text[..separator].Trim(), text[(separator + ExpectSeparator.Length)..].Trim());
    }
}
