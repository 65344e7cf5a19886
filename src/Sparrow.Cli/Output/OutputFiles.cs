using System.CommandLine;
using System.CommandLine.Parsing;

namespace Sparrow.Cli;

/// <summary>
/// The options that name a file a command writes, checked once for every command before it starts: not empty, not a
/// folder, and not a file that any other word of the command line names (the model, a recipe, calibration or training
/// data, another output), so that no command writes over what it reads and no work is lost to a path that fails at
/// the end. <c>--json</c> has its own check (<see cref="JsonOutput.Target"/>).
/// </summary>
internal static class OutputFiles
{
    private static readonly HashSet<string> Names = new(StringComparer.Ordinal)
    {
        "--output", "--recipe-out", "--markdown", "--heatmap", "--csv", "--energy-plot", "--write-training",
    };

    /// <exception cref="UsageException">An output file option is empty, a folder, or names the same file as another argument.</exception>
    public static void Check(ParseResult parse)
    {
        // Words after "--" belong to the command being measured (sparrow energy -- python plot.py runs.csv), not to Sparrow.
        var arguments = parse.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash).Where(t => t.Type == TokenType.Argument).ToArray();
        foreach (var option in parse.CommandResult.Children.OfType<OptionResult>())
        {
            if (!Names.Contains(option.Option.Name) || option.Tokens.Count == 0) continue;
            var token = option.Tokens[0];
            var value = token.Value;
            if (string.IsNullOrWhiteSpace(value)) throw new UsageException($"{option.Option.Name} is empty; give a file name.");
            if (Directory.Exists(value) || value.EndsWith(Path.DirectorySeparatorChar) || value.EndsWith(Path.AltDirectorySeparatorChar))
                throw new UsageException($"{option.Option.Name} {value} is a folder; give a file name.");
            JsonOutput.RefuseInputs(value, option.Option.Name, arguments.Where(t => !ReferenceEquals(t, token)).Select(t => t.Value));
        }
    }
}
