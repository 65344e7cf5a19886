using System.CommandLine;
using Spectre.Console;
using Spectre.Console.Rendering;
using Spectre.Console.Testing;

namespace Sparrow.Cli.Tests;

/// <summary>
/// What every command shares: --help that lists every option with its default, one error line and exit code 2 for
/// bad usage, --quiet and --verbose, and the stack trace of an internal error only with --verbose. The commands are
/// found by walking the root command, so a command added later is checked too.
/// </summary>
public class ConventionTests
{
    /// <summary>Every command and subcommand, as the words that invoke it ("bench kernels").</summary>
    public static IEnumerable<object[]> Commands()
    {
        var root = SparrowApp.CreateRootCommand(new CommandContext(new TestConsole(), []));
        foreach (var path in Walk(root, [])) yield return [string.Join(' ', path)];
    }

    private static IEnumerable<string[]> Walk(Command command, string[] path)
    {
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
        {
            string[] here = [.. path, sub.Name];
            yield return here;
            foreach (var deeper in Walk(sub, here)) yield return deeper;
        }
    }

    private static Command Find(string path)
    {
        Command command = SparrowApp.CreateRootCommand(new CommandContext(new TestConsole(), []));
        foreach (var name in path.Split(' ')) command = command.Subcommands.Single(c => c.Name == name);
        return command;
    }

    /// <summary>The options a user can give to <paramref name="command"/>: its own and the global ones.</summary>
    private static IEnumerable<Option> OptionsOf(Command command)
    {
        var root = SparrowApp.CreateRootCommand(new CommandContext(new TestConsole(), []));
        return command.Options.Concat(root.Options.Where(o => o.Recursive)).Where(o => !o.Hidden && o.Name != "--help");
    }

    [Fact]
    public void The_walk_finds_the_commands_and_their_subcommands()
    {
        var names = Commands().Select(c => (string)c[0]).ToArray();
        foreach (var expected in new[] { "inspect", "verify", "embed", "prune", "compact", "eval", "sensitivity", "bench", "bench kernels" })
            Assert.Contains(expected, names);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_exits_0_and_lists_every_option_with_its_default(string path)
    {
        var r = CliRunner.Run([.. path.Split(' '), "--help"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(r.Error);
        var blocks = OptionBlocks(r.Output);
        foreach (var option in OptionsOf(Find(path)))
        {
            var block = blocks.FirstOrDefault(b => b.Names.Contains(option.Name));
            Assert.True(block.Text is not null, $"'{path} --help' does not list {option.Name}:\n{r.Output}");
            // A flag is off unless given, and a required option has no default; every other option says its default.
            if (option.ValueType == typeof(bool) || option.Required) continue;
            Assert.True(block.Text.Contains("default", StringComparison.OrdinalIgnoreCase), $"'{path} --help' gives no default for {option.Name}: {block.Text}");
        }
    }

    /// <summary>The "Options:" section of a help text, one entry per option with the names it lists and its text (continuation lines included).</summary>
    private static List<(string[] Names, string Text)> OptionBlocks(string help)
    {
        var blocks = new List<(string[] Names, string Text)>();
        var inOptions = false;
        foreach (var line in help.Split('\n').Select(l => l.TrimEnd()))
        {
            if (line.Length == 0) continue;
            // Section headers ("Options:") start the line; long descriptions wrap onto lines that start there too.
            if (!line.StartsWith(' ') && line.EndsWith(':') && !line.Contains(' ')) { inOptions = line == "Options:"; continue; }
            if (!inOptions) continue;
            var trimmed = line.TrimStart();
            if (line.StartsWith(' ') && (trimmed.StartsWith('-') || trimmed.StartsWith('/')))
            {
                var names = trimmed.Split(' ')[0..].TakeWhile(w => w.StartsWith('-') || w.StartsWith('/')).Select(w => w.TrimEnd(',')).ToArray();
                blocks.Add((names, trimmed));
            }
            else if (blocks.Count > 0)
            {
                blocks[^1] = (blocks[^1].Names, blocks[^1].Text + " " + trimmed);
            }
        }
        return blocks;
    }

    private static void AssertOneLineError(CliRunner.Result r, params string[] mentions)
    {
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith("error: ", line);
        foreach (var m in mentions) Assert.Contains(m, line);
        Assert.DoesNotContain("   at ", r.Error + r.Output);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void An_unknown_option_is_bad_usage(string path) =>
        AssertOneLineError(CliRunner.Run([.. path.Split(' '), "--no-such-option"]), "--no-such-option", "--help");

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_number_option_given_a_word_is_bad_usage(string path)
    {
        var option = Find(path).Options.FirstOrDefault(o => Nullable.GetUnderlyingType(o.ValueType) is { } t ? IsNumber(t) : IsNumber(o.ValueType));
        if (option is null) return; // a command without number options (e.g. 'bench' with only subcommands of its own)
        AssertOneLineError(CliRunner.Run([.. path.Split(' '), option.Name, "many"]), option.Name);
    }

    private static bool IsNumber(Type t) => t == typeof(int) || t == typeof(double) || t == typeof(long);

    [Theory]
    [InlineData("inspect")]
    [InlineData("verify")]
    [InlineData("compact", "model.onnx", "-o", "out.onnx")]
    public void Quiet_and_verbose_together_are_bad_usage(string command, params string[] rest) =>
        AssertOneLineError(CliRunner.Run([command, .. rest, "--quiet", "--verbose"]), "--quiet", "--verbose");

    [Theory]
    [InlineData("embed", "--frobnicate", "a text")]
    [InlineData("inspect", "--no-such-option")]
    [InlineData("eval", "--referenc", "x.onnx", "y.onnx")]
    public void A_misspelt_option_is_not_taken_for_an_argument(params string[] args) =>
        AssertOneLineError(CliRunner.Run(args), args[1], "Unrecognized option");

    [Fact]
    public void After_a_double_dash_a_word_with_dashes_is_a_value()
    {
        var r = CliRunner.Run("embed", "--json", "--", "--not an option--", "a second text");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(r.Output);
        Assert.Equal("--not an option--", json.RootElement.GetProperty("texts")[0].GetString());
    }

    [Fact]
    public void Json_will_not_write_over_a_model()
    {
        using var dir = new TempDirectory();
        var model = dir.File("model.onnx");
        File.Copy(CliRunner.MiniLmPath, model);
        var before = File.ReadAllBytes(model);
        // The option's value is optional, so the model is read as --json's file: refused, the model untouched.
        AssertOneLineError(CliRunner.Run("inspect", "--json", model), "--json", model);
        Assert.Equal(before, File.ReadAllBytes(model));
        AssertOneLineError(CliRunner.Run("inspect", "--json", dir.Path), "is a folder");
    }

    /// <summary>
    /// An output option that names an input (or is empty, or a folder) is refused before any work, for every command
    /// and every output option, and every file given stays as it was.
    /// </summary>
    [Theory]
    [InlineData("--output", "names the same file", "prune", "{model}", "--recipe", "{plan}", "-o", "{plan}")]
    [InlineData("--output", "names the same file", "prune", "{model}", "--method", "wanda", "--sparsity", "0.5", "--calibration", "{text}", "-o", "{text}")]
    [InlineData("--output", "names the same file", "prune", "{model}", "--sparsity", "0.5", "-o", "{model}")]
    [InlineData("--output", "names the same file", "recover", "{model}", "--data", "{text}", "-o", "{text}")]
    [InlineData("--recipe-out", "names the same file", "sensitivity", "{model}", "--sparsities", "0.5", "--allocate", "0.5", "--recipe-out", "{model}")]
    [InlineData("--markdown", "names the same file", "eval", "{model}", "--markdown", "{model}")]
    [InlineData("--markdown", "names the same file", "sensitivity", "{model}", "--sparsities", "0.5", "--markdown", "{model}")]
    [InlineData("--output", "is empty", "prune", "{model}", "--sparsity", "0.5", "-o", "")]
    [InlineData("--output", "is a folder", "prune", "{model}", "--sparsity", "0.5", "-o", "{dir}")]
    [InlineData("--output", "is a folder", "compact", "{model}", "-o", "{dir}/new/")]
    public void An_output_that_names_an_input_is_refused_before_any_work(string option, string reason, params string[] args)
    {
        using var dir = new TempDirectory();
        var model = dir.File("model.onnx");
        File.Copy(CliRunner.MiniLmPath, model);
        File.WriteAllText(dir.File("plan.json"), "{\"method\": \"magnitude\", \"sparsity\": 0.5}\n");
        File.WriteAllText(dir.File("texts.txt"), "a sentence to calibrate on\n");
        var before = Directory.GetFiles(dir.Path).ToDictionary(f => f, File.ReadAllBytes);
        var words = args.Select(a => a.Replace("{model}", model).Replace("{plan}", dir.File("plan.json")).Replace("{text}", dir.File("texts.txt")).Replace("{dir}", dir.Path)).ToArray();
        var r = CliRunner.Run(words);
        AssertOneLineError(r, option, reason);
        if (reason == "names the same file") Assert.Contains("never overwrites its input", r.Error);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(dir.Path).Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    /// <summary>The words after "--" are the measured program's: naming the output file there is its business.</summary>
    [Fact]
    public void Words_after_a_double_dash_are_not_taken_for_inputs()
    {
        using var dir = new TempDirectory();
        var csv = dir.File("runs.csv");
        var r = CliRunner.Run("energy", "--energy-method", "estimate", "--watts-per-core", "10", "--csv", csv, "--", "true", csv);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(csv));
    }

    /// <summary>A console whose every write fails: an error Sparrow did not foresee, raised inside a command.</summary>
    private sealed class BrokenConsole : IAnsiConsole
    {
        private readonly TestConsole inner = new();

        public Profile Profile => inner.Profile;
        public IAnsiConsoleCursor Cursor => inner.Cursor;
        public IAnsiConsoleInput Input => inner.Input;
        public IExclusivityMode ExclusivityMode => inner.ExclusivityMode;
        public RenderPipeline Pipeline => inner.Pipeline;

        public void Clear(bool home) => inner.Clear(home);

        public void Write(IRenderable renderable) => throw new InvalidOperationException("the console broke");

        public void WriteAnsi(Action<AnsiWriter> action) => throw new InvalidOperationException("the console broke");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_internal_error_is_one_line_with_exit_1_and_its_stack_trace_only_with_verbose(bool verbose)
    {
        using var dir = new TempDirectory();
        var model = dir.File("cnn.onnx");
        Sparrow.Graph.Onnx.OnnxExporter.Save(Sparrow.Graph.Builders.SmallCnn.Build(imageSize: 8), model);
        using var error = new TestConsole().Width(250);
        string[] args = verbose ? ["inspect", model, "--verbose"] : ["inspect", model];
        var code = SparrowApp.Run(args, new BrokenConsole(), error);
        Assert.Equal(ExitCodes.Failure, code);
        var lines = error.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("error: internal error (InvalidOperationException): the console broke", lines[0]);
        if (verbose)
        {
            Assert.Contains("   at ", error.Output);
            Assert.Contains(nameof(BrokenConsole), error.Output);
        }
        else
        {
            Assert.Single(lines);
            Assert.Contains("--verbose", lines[0]);
        }
    }
}
