namespace Klp.Build.KlpConvert;

public static class Program
{
    public static int Main(string[] args) => KlpConvertCommand.Run(args, Console.Out, Console.Error);
}
