namespace Klp.Build.Cli;

public static class Program
{
    public static int Main(string[] args) => KlpCommandLine.Run(args, Console.Out, Console.Error);
}
