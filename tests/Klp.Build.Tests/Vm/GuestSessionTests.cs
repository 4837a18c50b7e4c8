using System.IO.Compression;
using Klp.Build.Processes;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

/// <summary>The scripted guest mode (GuestSession): its /init, its initramfs, its report.</summary>
public sealed class GuestSessionTests
{
    [Fact]
    public void Steps_run_in_order_whatever_the_previous_returned_and_each_is_reported()
    {
        var directory = Directory.CreateTempSubdirectory("klp-session-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "0.sh"), "echo one; exit 4\n");
            File.WriteAllText(Path.Combine(directory, "1.sh"), "echo two >&2\n");
            var script = GuestInitScript.GenerateSession([Path.Combine(directory, "0.sh"), Path.Combine(directory, "1.sh")]);
            ProcessRunner.Run("/bin/busybox", ["sh", "-n", "-c", script]).ExitCode.ShouldBe(0);
            // The helpers and the steps, with fd 3 on a file instead of ttyS1 (not the mounts and the power-off).
            var functions = script[script.IndexOf("emit() {", StringComparison.Ordinal)..script.IndexOf("finish() {", StringComparison.Ordinal)];
            var steps = script[script.IndexOf("echo \"@@KLP START\"", StringComparison.Ordinal)..script.LastIndexOf("finish", StringComparison.Ordinal)];
            var results = Path.Combine(directory, "results");
            File.WriteAllText(Path.Combine(directory, "harness.sh"), $"OUT={directory}/out\nexec 3>{results}\n{functions}\n{steps}\n");
            var run = ProcessRunner.Run("/bin/busybox", ["sh", Path.Combine(directory, "harness.sh")]);
            run.ExitCode.ShouldBe(0, run.StandardError);

            var report = GuestReport.Parse(File.ReadAllText(results));
            report.Started.ShouldBeTrue();
            report.Steps.Keys.ShouldBe([0, 1]);
            report.Steps[0].ShouldBe(new GuestOutput(4, "one\n"));
            report.Steps[1].ShouldBe(new GuestOutput(0, "two\n"));
        }
        finally { Directory.Delete(directory, true); }
    }

    [Fact]
    public void The_initramfs_holds_the_files_the_steps_and_init_as_cpio_lists_them()
    {
        var directory = Directory.CreateTempSubdirectory("klp-session-").FullName;
        try
        {
            var session = new GuestSession("/k/vmlinuz", [GuestFile.FromText("pkg/tools/klp-apply", "echo hi\n", executable: true)],
                ["sh /pkg/tools/klp-apply"], directory, TimeSpan.FromMinutes(1));
            var initrd = InitramfsBuilder.BuildSession(session, "/bin/busybox", directory);

            var cpio = Path.Combine(directory, "initrd.cpio");
            using (var input = new GZipStream(File.OpenRead(initrd), CompressionMode.Decompress))
            using (var output = File.Create(cpio))
                input.CopyTo(output);
            var listing = ProcessRunner.Run("sh", ["-c", "cpio -itv < \"$1\"", "sh", cpio]);
            listing.ExitCode.ShouldBe(0, listing.StandardError);
            listing.StandardOutput.ShouldMatch(@"(?m)^-rwxr-xr-x .* pkg/tools/klp-apply$");
            listing.StandardOutput.ShouldContain("klp/steps/00.sh");
            listing.StandardOutput.ShouldMatch(@"(?m) init$");
        }
        finally { Directory.Delete(directory, true); }
    }

    [Theory]
    [InlineData("init")]
    [InlineData("/init")]
    [InlineData("pkg/../../etc/passwd")]
    public void A_file_may_not_replace_init_or_leave_the_initramfs(string guestPath)
    {
        var directory = Directory.CreateTempSubdirectory("klp-session-").FullName;
        try
        {
            var session = new GuestSession("/k/vmlinuz", [GuestFile.FromText(guestPath, "x")], [], directory, TimeSpan.FromMinutes(1));
            Should.Throw<ArgumentException>(() => InitramfsBuilder.BuildSession(session, "/bin/busybox", directory));
        }
        finally { Directory.Delete(directory, true); }
    }
}
