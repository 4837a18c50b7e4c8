using Klp.Build.Diagnostics;
using Klp.Build.Kernels;

namespace Klp.Build.Tests.Kernels;

public sealed class KernelReleaseListTests
{
    [Fact]
    public void Entries_resolve_in_order_and_a_release_named_twice_builds_once()
    {
        var diagnostics = new DiagnosticBag();
        var releases = KernelReleaseList.Resolve(" 6.1.0-*-amd64 ; 6.12.*+deb12-amd64;6.1.0-56-amd64;", null,
            entry => entry.Replace("6.1.0-*", "6.1.0-56").Replace("6.12.*", "6.12.117"), diagnostics);

        releases.ShouldBe(["6.1.0-56-amd64", "6.12.117+deb12-amd64"]);
        var warning = diagnostics.Items.ShouldHaveSingleItem();
        warning.Code.ShouldBe("KLP6102");
        warning.Message.ShouldContain("'6.1.0-*-amd64' and '6.1.0-56-amd64'");
    }

    [Fact]
    public void KernelDir_with_KernelReleases_is_KLP6101()
    {
        var exception = Should.Throw<DiagnosticException>(() =>
            KernelReleaseList.Resolve("6.1.0-*-amd64", "/src/linux", entry => entry, new DiagnosticBag()));
        exception.Diagnostic.Code.ShouldBe("KLP6101");
    }
}
