namespace Sparrow.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("sparrow: no commands yet.");
        return args.Length == 0 ? 2 : 2;
    }
}
