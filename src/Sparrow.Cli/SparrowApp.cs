using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using Sparrow.Cli.Commands;
using Sparrow.Graph;
using Sparrow.Runtime;
using Spectre.Console;

namespace Sparrow.Cli;

/// <summary>
/// The <c>sparrow</c> command. Everything it prints goes through the given consoles, so tests can run it
/// in process and read what it said; errors the user can fix become one line and exit code 2.
/// </summary>
public static class SparrowApp
{
    public static RootCommand CreateRootCommand(CommandContext context) => CreateRootCommand(context, new GlobalOptions());

    private static RootCommand CreateRootCommand(CommandContext context, GlobalOptions options)
    {
        var root = new RootCommand("Sparrow: sparse neural networks in .NET. Runs ONNX models, checks them against ONNX Runtime, measures them.")
        {
            options.Quiet, options.Verbose,
        };
        root.Add(EmbedCommand.Create(context));
        root.Add(DemoCommand.Create(context));
        root.Add(VerifyCommand.Create(context));
        root.Add(InspectCommand.Create(context));
        root.Add(PruneCommand.Create(context));
        root.Add(CompactCommand.Create(context));
        root.Add(RecoverCommand.Create(context));
        root.Add(BenchCommand.Create(context));
        root.Add(EvalCommand.Create(context));
        root.Add(SensitivityCommand.Create(context));
        root.Add(ReportCommand.Create(context));
        root.Add(EnergyCommand.Create(context));
        root.Add(ServeCommand.Create(context));
        root.Add(MoefyCommand.Create(context));
        HelpDefaults.Apply(root);
        return root;
    }

    /// <param name="error">Where error lines go; the output console when null.</param>
    public static int Run(string[] args, IAnsiConsole console, IAnsiConsole? error = null)
    {
        error ??= console;
        var context = new CommandContext(console, args, error);
        var options = new GlobalOptions();
        var root = CreateRootCommand(context, options);
        var parse = root.Parse(args);
        if (UnknownOption(parse, args) is { } unknown)
        {
            WriteError(error, $"Unrecognized option '{unknown}'. Run 'sparrow {string.Join(' ', CommandPath(parse.CommandResult))} --help' to see its options; put '--' before a value that starts with '-'.");
            return ExitCodes.BadInput;
        }
        if (parse.Errors.Count > 0)
        {
            WriteError(error, string.Join(" ", parse.Errors.Select(e => e.Message)) + " Run 'sparrow --help' to see the commands and their options.");
            return ExitCodes.BadInput;
        }
        var writer = new ConsoleTextWriter(console);
        var configuration = new InvocationConfiguration
        {
            Output = writer,
            Error = new ConsoleTextWriter(error),
            // Our own handler below turns exceptions into one line and an exit code.
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            context.Configure(parse);
            OutputFiles.Check(parse);
            return parse.Invoke(configuration);
        }
        catch (Exception e) when (IsUserError(e))
        {
            WriteError(error, e.Message);
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            WriteError(error, $"internal error ({e.GetType().Name}): {e.Message}" + (context.Verbosity == Verbosity.Verbose ? "" : " Run again with --verbose for the stack trace."));
            if (context.Verbosity == Verbosity.Verbose) error.Profile.Out.Writer.WriteLine(e.ToString());
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// A word like an option that System.CommandLine took as a command argument (a text to embed, a model path)
    /// because no option has that name: a typo, not a value. After '--' every word is a value.
    /// </summary>
    private static string? UnknownOption(ParseResult parse, string[] args)
    {
        // Only the words before '--' can be misspelt options: what follows is the user's (e.g. a command to run).
        var separator = Array.IndexOf(args, "--");
        var beforeSeparator = new HashSet<string>(separator < 0 ? args : args[..separator], StringComparer.Ordinal);
        return parse.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>()
            .SelectMany(a => a.Tokens).Select(t => t.Value)
            .FirstOrDefault(v => v.Length > 1 && v[0] == '-' && v != "--" && beforeSeparator.Contains(v)
                && !double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new List<string>();
        for (var r = result; r?.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent) names.Insert(0, r.Command.Name);
        return names;
    }

    /// <summary>Errors caused by what the user gave: a file, a model, an option value.</summary>
    internal static bool IsUserError(Exception e) => e is UsageException or ModelException or InferenceException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
        or OnnxRuntimeException or InvalidDataException;

    private static void WriteError(IAnsiConsole error, string message)
    {
        // One line: a message that spans lines would read as several errors.
        var line = string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // Straight to the writer: Spectre would wrap a long message at the console width, and scripts that
        // read the error expect one line.
        error.Profile.Out.Writer.WriteLine("error: " + line);
    }
}

/// <summary>Lets System.CommandLine's help and messages go through the Spectre console.</summary>
internal sealed class ConsoleTextWriter(IAnsiConsole console) : TextWriter
{
    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void Write(char value) => Write(value.ToString());

    public override void Write(string? value)
    {
        if (!string.IsNullOrEmpty(value)) console.Write(new Text(value));
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        console.WriteLine();
    }

    public override void WriteLine() => console.WriteLine();
}
