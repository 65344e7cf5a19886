using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Sparrow.Graph;

namespace Sparrow.Cli;

/// <summary>
/// The <c>--json [FILE]</c> option every command that prints results takes: given a file, the JSON goes there
/// (written atomically) and the tables are printed as usual; given alone, the JSON goes to standard output
/// instead of the tables, and remarks go to standard error, so that <c>sparrow ... --json | jq</c> works.
/// </summary>
public static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Commands and model paths stay readable ('...' rather than \u0027...\u0027); the output is data, never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // A measurement that came out NaN or infinite must not crash the output; it is written as the string "NaN".
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A finite number as itself, NaN and infinities as null: what JSON readers expect of a missing value.</summary>
    public static double? Number(double value) => double.IsFinite(value) ? value : null;

    /// <summary>The option, with its value optional.</summary>
    public static Option<string?> Option(string what = "the results") => new("--json")
    {
        Description = $"Print {what} as JSON instead of tables; with a file name, write the JSON there and print the tables too (default: tables only).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Where the JSON goes for this command line: null (nowhere), "" (standard output) or a file path.</summary>
    public static string? Target(ParseResult parse, Option<string?> option)
    {
        var result = parse.GetResult(option);
        if (result is null) return null;
        var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (value.Length > 0 && Directory.Exists(value)) throw new UsageException($"--json {value} is a folder; give a file name, or no value for standard output.");
        // The value is optional, so 'sparrow inspect --json model.onnx' reads the model as the JSON file: never write over such a file.
        if (value.Length > 0 && !string.Equals(Path.GetExtension(value), ".json", StringComparison.OrdinalIgnoreCase)
            && (File.Exists(value) || Path.GetExtension(value).Equals(".onnx", StringComparison.OrdinalIgnoreCase)))
            throw new UsageException($"--json {value}: Sparrow will not write JSON over a file that is not .json; give a .json file name, or put --json after the other arguments for standard output.");
        // An input of the command named again as the JSON file (prune --recipe plan.json --json plan.json) would be
        // overwritten by its own results: any other word of the command line naming the same file is refused.
        if (value.Length > 0)
            RefuseInputs(value, "--json", parse.Tokens.Where(t => t.Type == System.CommandLine.Parsing.TokenType.Argument && !ReferenceEquals(t, result.Tokens[0])).Select(t => t.Value));
        return value;
    }

    /// <summary>Refuses an output path that names the same file as one of the command's inputs (or other outputs).</summary>
    /// <param name="output">The output file; null or empty: nothing to check.</param>
    /// <param name="option">The option that names it, for the message.</param>
    /// <param name="inputs">The command's input paths (nulls ignored).</param>
    internal static void RefuseInputs(string? output, string option, IEnumerable<string?> inputs)
    {
        if (string.IsNullOrEmpty(output)) return;
        var target = Path.GetFullPath(output);
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input)) continue;
            string full;
            try
            {
                full = Path.GetFullPath(input);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                continue;
            }
            if (string.Equals(full, target, comparison))
                throw new UsageException($"{option} {output} names the same file as another argument ({input}); Sparrow never overwrites its input (nor one output with another): give another file name.");
        }
    }

    /// <summary>
    /// Writes <paramref name="results"/> where <paramref name="target"/> says and, unless the JSON replaces them,
    /// prints the tables with <paramref name="printTables"/>.
    /// </summary>
    public static void Write(CommandContext context, string? target, object results, Action printTables)
    {
        if (target == "")
        {
            context.Console.Profile.Out.Writer.WriteLine(Serialize(results));
            context.Console.Profile.Out.Writer.Flush();
            return;
        }
        printTables();
        if (target is null) return;
        AtomicFile.WriteAllText(target, Serialize(results) + "\n");
        context.Info($"Wrote the JSON to [bold]{Spectre.Console.Markup.Escape(target)}[/].");
    }

    /// <summary>The JSON text of <paramref name="results"/>, as every command writes it.</summary>
    public static string Serialize(object results) => JsonSerializer.Serialize(results, results.GetType(), Options);
}
