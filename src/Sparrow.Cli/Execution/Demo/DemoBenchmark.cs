using System.Text.Json;
using Sparrow.Cli.Commands;
using Spectre.Console;

namespace Sparrow.Cli.Execution.Demo;

/// <summary>One model at one shape, as the demo's table needs it (milliseconds, medians).</summary>
/// <param name="SparrowJoules">Sparrow's energy per inference (joules), as bench measured it; null when bench had none.</param>
/// <param name="EnergyMethod">How that energy was measured (rapl, perf or estimate).</param>
internal sealed record DemoLatency(int Batch, int? Sequence, string Model, double SparrowMs, double OrtMs, double? SparrowJoules = null, string? EnergyMethod = null);

/// <summary>One model's weight memory as the benchmark measured it.</summary>
internal sealed record DemoWeights(string Model, long InitializerBytes, long? SessionWeightBytes, IReadOnlyDictionary<string, string>? KernelChoices);

/// <summary>What the demo reads back from the benchmark's JSON.</summary>
internal sealed record DemoBenchResult(IReadOnlyList<DemoLatency> Latencies, IReadOnlyList<DemoWeights> Weights);

/// <summary>
/// The demo's speed check: <c>sparrow bench</c> itself (dense first, then every variant; Sparrow and ONNX Runtime
/// alternating after warm-up) on the files the demo wrote, its JSON written to the output folder as
/// <c>sparrow bench --json</c> writes it and its tables to bench.txt; the demo reads the JSON back for its table.
/// </summary>
internal static class DemoBenchmark
{
    public static DemoBenchResult Run(CommandContext context, IReadOnlyList<string> modelPaths, DemoSettings settings, int threads,
        string jsonPath, string tablesPath, ProgressStep progress)
    {
        // bench's tables go to bench.txt rather than between the demo's own steps.
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        var benchContext = new CommandContext(console, context.Args, context.Error) { Verbosity = Verbosity.Quiet };
        var code = BenchCommand.Run(benchContext, new BenchCommand.Settings(modelPaths, settings.Batches, settings.Sequences, threads,
            settings.Warmup, settings.Runs, Seed: 0, Markdown: null, Profile: false, Json: jsonPath)
        {
            // bench reports shapes measured (each for every model); the demo's bar counts model-shapes.
            Progress = (done, _) => progress.AdvanceTo(done * modelPaths.Count),
        });
        var text = writer.ToString();
        Sparrow.Graph.AtomicFile.WriteAllText(tablesPath, text);
        if (code != ExitCodes.Success) throw new InvalidOperationException($"the benchmark failed (exit code {code}); its output is in {tablesPath}.");
        context.Detail(Markup.Escape(text));
        return Read(jsonPath);
    }

    /// <summary>Reads the parts of a <c>sparrow bench --json</c> file the demo shows.</summary>
    public static DemoBenchResult Read(string jsonPath)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(jsonPath));
        var root = json.RootElement;
        var latencies = root.GetProperty("results").EnumerateArray().Select(r => new DemoLatency(
            r.GetProperty("batch").GetInt32(),
            r.TryGetProperty("sequence", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null,
            r.GetProperty("model").GetString()!,
            r.GetProperty("sparrowMs").GetProperty("median").GetDouble(),
            r.GetProperty("ortMs").GetProperty("median").GetDouble(),
            r.TryGetProperty("sparrowEnergy", out var e) && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("energyJoulesPerInference", out var j) && j.ValueKind == JsonValueKind.Number ? j.GetDouble() : null,
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("energyMethod", out var method) ? method.GetString() : null)).ToArray();
        var weights = root.GetProperty("models").EnumerateArray().Select(m => new DemoWeights(
            m.GetProperty("label").GetString()!,
            m.GetProperty("initializerBytes").GetInt64(),
            m.TryGetProperty("sessionWeightBytes", out var b) && b.ValueKind == JsonValueKind.Number ? b.GetInt64() : null,
            m.TryGetProperty("kernelChoices", out var k) && k.ValueKind == JsonValueKind.Object
                ? k.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "")
                : null)).ToArray();
        return new DemoBenchResult(latencies, weights);
    }
}
