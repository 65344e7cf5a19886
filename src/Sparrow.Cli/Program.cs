using Spectre.Console;

namespace Sparrow.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var output = AnsiConsole.Console;
        // Spectre wraps at 80 columns when it cannot see a terminal; tables in files read better wider.
        if (Console.IsOutputRedirected) output.Profile.Width = 160;
        return SparrowApp.Run(args, output, error);
    }
}
