using System.Text;

namespace Klp.Build.Vm;

/// <summary>A check as the guest runs it: an id ("c0" command, "s0" script) and the script's path in the initramfs.</summary>
public sealed record GuestCheck(string Id, string GuestPath);

/// <summary>A PerObject patch as the guest applies it: the package's apply command and the livepatch names it registers.</summary>
public sealed record GuestPatchSet(string ApplyCommandPath, IReadOnlyList<string> PatchNames);

/// <summary>Everything the guest /init needs, as guest paths; with <paramref name="PatchSet"/>, the apply command loads the patch.</summary>
public sealed record GuestPlan(
    string PatchName,
    string PatchModulePath,
    IReadOnlyList<string> PrerequisiteModulePaths,
    IReadOnlyList<string> SetupScriptPaths,
    IReadOnlyList<GuestCheck> Checks,
    TimeSpan TransitionTimeout,
    bool LoadPatchFirst = false,
    GuestPatchSet? PatchSet = null);

/// <summary>
/// Generates the guest's /init (busybox ash). It reports over /dev/ttyS1, one line per event:
/// <c>@@KLP &lt;EVENT&gt; &lt;fields…&gt; &lt;base64 output or -&gt;</c> (see <see cref="GuestReport"/>), so kernel
/// messages on the console (ttyS0) never mix into check outputs.
/// </summary>
public static class GuestInitScript
{
    public const string ResultsDevice = "/dev/ttyS1";
    public const string Marker = "@@KLP";
    private const string Sysfs = "/sys/kernel/livepatch";

    public static string Generate(GuestPlan plan)
    {
        foreach (var name in plan.PatchSet?.PatchNames.Append(plan.PatchName) ?? [plan.PatchName])
            if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
                throw new ArgumentException($"livepatch name '{name}' must consist of letters, digits and '_'");
        var ticks = Math.Max(1, (int)Math.Ceiling(plan.TransitionTimeout.TotalMilliseconds / 100));
        var seconds = Math.Max(1, (int)Math.Ceiling(plan.TransitionTimeout.TotalSeconds));
        var s = new StringBuilder();
        void Line(string text = "") => s.Append(text).Append('\n');

        Preamble(s, "proves a livepatch in the target kernel");
        Line($"LP={Sysfs}/{plan.PatchName}");
        Line("# wait_transition [DIR]: 0 once the patch (default $LP) is gone or transition reads 0, 1 after the timeout");
        Line("wait_transition() {");
        Line("  d=${1:-$LP}");
        Line("  n=0");
        Line($"  while [ $n -lt {ticks} ]; do");
        Line("    [ -d $d ] || return 0");
        Line("    t=$(cat $d/transition 2>/dev/null) || return 0");
        Line("    [ \"$t\" = 0 ] && return 0");
        Line("    usleep 100000");
        Line("    n=$((n+1))");
        Line("  done");
        Line("  return 1");
        Line("}");
        Line("run_checks() {");
        Line("  export KLP_PHASE=$1");
        foreach (var check in plan.Checks)
        {
            Line($"  sh {check.GuestPath} $1 > $OUT 2>&1 < /dev/null");
            Line($"  emit \"CHECK $1 {check.Id} $?\" $OUT");
        }
        Line("  :");
        Line("}");
        Line();
        void LoadModulesAndSetUp()
        {
            for (var i = 0; i < plan.PrerequisiteModulePaths.Count; i++)
            {
                Line($"insmod {plan.PrerequisiteModulePaths[i]} > $OUT 2>&1");
                Line($"rc=$?; emit \"PREREQ {i} $rc\" $OUT");
                Line("[ $rc = 0 ] || finish");
            }
            for (var i = 0; i < plan.SetupScriptPaths.Count; i++)
            {
                Line($"sh {plan.SetupScriptPaths[i]} > $OUT 2>&1 < /dev/null");
                Line($"emit \"SETUP {i} $?\" $OUT");
            }
        }

        // PerObject: the package's own apply command loads the modules in manifest load order (waiting for each
        // transition, rolling back on failure) and reverts them; INSMOD/DISABLE report its output.
        void ApplySet(GuestPatchSet set)
        {
            var names = string.Join(' ', set.PatchNames);
            Line("mkdir -p /var/lib /run /lib/modules /etc");
            Line($"KLP_TRANSITION_TIMEOUT={seconds} sh {set.ApplyCommandPath} apply > $OUT 2>&1");
            Line("rc=$?; emit \"INSMOD $rc\" $OUT");
            Line("[ $rc = 0 ] || finish");
            Line($"missing=''; for m in {names}; do [ -d {Sysfs}/$m ] || missing=\"$missing $m\"; done");
            Line($"if [ -n \"$missing\" ]; then echo \"{Marker} REGISTERED 0\" >&3; sh {set.ApplyCommandPath} revert > $OUT 2>&1; emit \"RMMOD $?\" $OUT; finish; fi");
            Line($"echo \"{Marker} REGISTERED 1\" >&3");
            Line($"ok=1; for m in {names}; do wait_transition {Sysfs}/$m || ok=0; done");
            Line($"if [ $ok = 1 ]; then echo \"{Marker} TRANSITION patched ok\" >&3; else echo \"{Marker} TRANSITION patched timeout\" >&3; finish; fi");
        }
        void RevertSet(GuestPatchSet set)
        {
            Line($"KLP_TRANSITION_TIMEOUT={seconds} sh {set.ApplyCommandPath} revert > $OUT 2>&1");
            Line("emit \"DISABLE $?\" $OUT");
            Line($"ok=1; for m in {string.Join(' ', set.PatchNames)}; do if [ -d {Sysfs}/$m ]; then [ \"$(cat {Sysfs}/$m/enabled)\" = 0 ] && wait_transition {Sysfs}/$m || ok=0; fi; done");
            Line($"if [ $ok = 1 ]; then echo \"{Marker} TRANSITION disabled ok\" >&3; else echo \"{Marker} TRANSITION disabled timeout\" >&3; finish; fi");
        }

        Line($"echo \"{Marker} START\" >&3");
        if (!plan.LoadPatchFirst)
        {
            LoadModulesAndSetUp();
            Line("run_checks unpatched");
        }
        if (plan.PatchSet is { } set) ApplySet(set);
        else
        {
            Line($"insmod {plan.PatchModulePath} > $OUT 2>&1");
            Line("rc=$?; emit \"INSMOD $rc\" $OUT");
            Line("[ $rc = 0 ] || finish");
            Line($"if [ ! -d $LP ]; then echo \"{Marker} REGISTERED 0\" >&3; rmmod {plan.PatchName} > $OUT 2>&1; emit \"RMMOD $?\" $OUT; finish; fi");
            Line($"echo \"{Marker} REGISTERED 1\" >&3");
            Line($"if wait_transition; then echo \"{Marker} TRANSITION patched ok\" >&3; else echo \"{Marker} TRANSITION patched timeout\" >&3; finish; fi");
        }
        if (plan.LoadPatchFirst)
        {
            // Late patching: the patched modules load after the patch, and the kernel patches them as they come.
            LoadModulesAndSetUp();
        }
        Line("run_checks patched");
        if (plan.PatchSet is { } applied) RevertSet(applied);
        else
        {
            Line("echo 0 > $LP/enabled 2> $OUT");
            Line("emit \"DISABLE $?\" $OUT");
            Line($"if wait_transition; then echo \"{Marker} TRANSITION disabled ok\" >&3; else echo \"{Marker} TRANSITION disabled timeout\" >&3; finish; fi");
        }
        Line("run_checks disabled");
        if (plan.PatchSet is { } reverted)
        {
            // RMMOD reports what the revert left loaded: every module of the set must be gone.
            Line($"left=''; for m in {string.Join(' ', reverted.PatchNames)}; do if [ -d {Sysfs}/$m ] || grep -q \"^$m \" /proc/modules; then left=\"$left $m\"; fi; done");
            Line("echo \"still loaded:$left\" > $OUT; [ -z \"$left\" ]");
        }
        else Line($"rmmod {plan.PatchName} > $OUT 2>&1");
        Line("emit \"RMMOD $?\" $OUT");
        Line("finish");
        return s.ToString();
    }

    /// <summary>
    /// The /init of a <see cref="GuestSession"/>: runs each step's script in order and reports
    /// <c>STEP &lt;index&gt; &lt;rc&gt; &lt;output&gt;</c> for each, then the kernel log, then powers off.
    /// </summary>
    public static string GenerateSession(IReadOnlyList<string> stepScriptPaths)
    {
        var s = new StringBuilder();
        void Line(string text = "") => s.Append(text).Append('\n');
        Preamble(s, "runs a test's steps in the target kernel");
        Line("mkdir -p /var/lib /run /lib/modules");
        Line($"echo \"{Marker} START\" >&3");
        for (var i = 0; i < stepScriptPaths.Count; i++)
        {
            Line($"sh {stepScriptPaths[i]} > $OUT 2>&1 < /dev/null");
            Line($"emit \"STEP {i} $?\" $OUT");
        }
        Line("finish");
        return s.ToString();
    }

    /// <summary>Mounts, the results port on fd 3, emit (one reported event) and finish (kernel log, END, power off).</summary>
    private static void Preamble(StringBuilder s, string purpose)
    {
        void Line(string text = "") => s.Append(text).Append('\n');
        Line("#!/bin/sh");
        Line($"# Generated by Klp.Build: {purpose}.");
        Line("export PATH=/bin");
        Line("mount -t proc proc /proc");
        Line("mount -t sysfs sysfs /sys");
        Line("mount -t devtmpfs devtmpfs /dev");
        Line("mkdir -p /tmp");
        Line($"stty -F {ResultsDevice} raw -echo 2>/dev/null");
        Line($"exec 3>{ResultsDevice}");
        Line("OUT=/tmp/klp-out");
        Line();
        Line("# emit EVENT-AND-FIELDS FILE: one line on the results port, the file base64-encoded");
        Line("emit() {");
        Line("  b=$(base64 < \"$2\" | tr -d '\\n')");
        Line($"  echo \"{Marker} $1 ${{b:--}}\" >&3");
        Line("}");
        Line("finish() {");
        Line("  dmesg > $OUT 2>&1; emit \"DMESG $?\" $OUT");
        Line($"  echo \"{Marker} END\" >&3");
        Line("  sync");
        Line("  poweroff -f");
        Line("  sleep 5");
        Line("}");
    }
}
