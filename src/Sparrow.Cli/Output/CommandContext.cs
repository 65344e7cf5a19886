using System.CommandLine;
using Spectre.Console;

namespace Sparrow.Cli;

/// <summary>How much a command says besides its results.</summary>
public enum Verbosity
{
    /// <summary>Results and errors only: no progress, no remarks.</summary>
    Quiet,

    /// <summary>Results, progress and short remarks.</summary>
    Normal,

    /// <summary>Also details: per-step lines, timings, stack traces of internal errors.</summary>
    Verbose,
}

/// <summary>
/// What every command gets: the consoles, the command line, and the global output settings
/// (<c>--quiet</c>, <c>--verbose</c>). Commands print results to <see cref="Console"/>, and remarks through
/// <see cref="Info"/> and <see cref="Detail"/>, so that <c>--quiet</c> and <c>--json</c> without a file
/// (JSON alone on standard output) hold everywhere without each command checking them.
/// </summary>
public sealed class CommandContext(IAnsiConsole console, IReadOnlyList<string> args, IAnsiConsole? error = null)
{
    /// <summary>Where results go (standard output).</summary>
    public IAnsiConsole Console { get; } = console;

    /// <summary>Where errors go (standard error).</summary>
    public IAnsiConsole Error { get; } = error ?? console;

    public IReadOnlyList<string> Args { get; } = args;

    public Verbosity Verbosity { get; internal set; } = Verbosity.Normal;

    /// <summary>True while a command writes its JSON to standard output: everything else then goes to standard error.</summary>
    public bool JsonOnStandardOutput { get; internal set; }

    /// <summary>Work under this long ends without a "done in" remark (shown with --verbose); tests set it to be independent of the machine's load.</summary>
    internal TimeSpan ProgressRemarkAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where remarks and progress go: standard output, or standard error while JSON owns standard output.</summary>
    public IAnsiConsole Remarks => JsonOnStandardOutput ? Error : Console;

    /// <summary>The command line as a user would type it again (quoted where needed).</summary>
    public string CommandLine => "sparrow " + string.Join(' ', Args.Select(Quote));

    /// <summary>A remark (markup) for a person reading along; not printed with --quiet.</summary>
    public void Info(string markup)
    {
        if (Verbosity != Verbosity.Quiet) Remarks.MarkupLine(markup);
    }

    /// <summary>A detail (markup) printed only with --verbose.</summary>
    public void Detail(string markup)
    {
        if (Verbosity == Verbosity.Verbose) Remarks.MarkupLine(markup);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar (with the time remaining) on an interactive terminal; elsewhere
    /// (files, pipes, tests) it prints one line when the work ends, and with --verbose one per step.
    /// </summary>
    /// <param name="description">What is being done, e.g. "Pruning".</param>
    /// <param name="steps">How many steps the work reports through the <see cref="ProgressStep"/> it is given.</param>
    public T Progress<T>(string description, int steps, Func<ProgressStep, T> work) =>
        ProgressDisplay.Run(this, description, steps, work);

    /// <inheritdoc cref="Progress{T}(string, int, Func{ProgressStep, T})"/>
    public void Progress(string description, int steps, Action<ProgressStep> work) =>
        ProgressDisplay.Run(this, description, steps, step => { work(step); return 0; });

    /// <summary>Reads the global options once the command line is parsed.</summary>
    internal void Configure(ParseResult parse)
    {
        var quiet = parse.GetValue<bool>("--quiet");
        var verbose = parse.GetValue<bool>("--verbose");
        if (quiet && verbose) throw new UsageException("--quiet and --verbose do not go together; give one.");
        Verbosity = quiet ? Verbosity.Quiet : verbose ? Verbosity.Verbose : Verbosity.Normal;
        // --json with no file: the JSON owns standard output, so remarks and progress move to standard error.
        var json = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--json");
        JsonOnStandardOutput = json is not null && parse.GetResult(json) is { Tokens.Count: 0, Implicit: false };
    }

    private static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=,:+@".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";
}

/// <summary>The options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "Print only results and errors: no progress, no remarks.",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Print details too: each step, timings, and the stack trace of an internal error.",
        Recursive = true,
    };
}
