namespace Klp.Build.Kernels;

/// <summary>One CPU architecture in its three spellings: Debian's, kbuild's ARCH, and the GNU triplet.</summary>
public sealed record KernelArchitecture(string Debian, string Kbuild, string GnuTriplet, string ConfigSymbol)
{
    public static readonly KernelArchitecture Amd64 = new("amd64", "x86", "x86_64-linux-gnu", "CONFIG_X86_64");
    public static readonly KernelArchitecture Arm64 = new("arm64", "arm64", "aarch64-linux-gnu", "CONFIG_ARM64");
    public static readonly KernelArchitecture Ppc64el = new("ppc64el", "powerpc", "powerpc64le-linux-gnu", "CONFIG_PPC64");
    public static readonly KernelArchitecture S390x = new("s390x", "s390", "s390x-linux-gnu", "CONFIG_S390");

    public static IReadOnlyList<KernelArchitecture> All { get; } = [Amd64, Arm64, Ppc64el, S390x];

    /// <summary>Debian release flavours end in the architecture: 6.1.0-56-amd64, 6.1.0-56-powerpc64le, 6.1.0-56-cloud-arm64.</summary>
    public static KernelArchitecture? FromReleaseFlavour(string release)
    {
        var flavour = release[(release.LastIndexOf('-') + 1)..];
        return flavour switch
        {
            "amd64" => Amd64,
            "arm64" or "arm64-16k" => Arm64,
            "powerpc64le" or "powerpc64le-64k" => Ppc64el,
            "s390x" => S390x,
            _ => null,
        };
    }

    public static KernelArchitecture? FromConfig(KernelConfig config) =>
        All.FirstOrDefault(a => config.IsEnabled(a.ConfigSymbol));

    public static KernelArchitecture? Host =>
        System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => Amd64,
            System.Runtime.InteropServices.Architecture.Arm64 => Arm64,
            System.Runtime.InteropServices.Architecture.Ppc64le => Ppc64el,
            System.Runtime.InteropServices.Architecture.S390x => S390x,
            _ => null,
        };
}
