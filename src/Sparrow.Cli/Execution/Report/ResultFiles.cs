using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sparrow.Cli.Execution.Report;

// The JSON files that bench, eval and sensitivity write, as the report reads them. Every member is optional: files
// written by older or newer versions (with fields added or missing) still read, and what is absent is left out.

/// <summary><c>sparrow bench --json</c>.</summary>
internal sealed class BenchFile
{
    public string? Command { get; set; }
    public string? MeasuredUtc { get; set; }
    public BenchMachine? Machine { get; set; }
    public int? Warmup { get; set; }
    public int? Runs { get; set; }
    /// <summary>How bench measured energy and priced it, once per file (its <c>energy</c> block).</summary>
    public BenchEnergySettings? Energy { get; set; }
    public List<BenchModelEntry>? Models { get; set; }
    public List<BenchResultEntry>? Results { get; set; }
}

internal sealed class BenchMachine
{
    public string? Cpu { get; set; }
    public int? LogicalCores { get; set; }
    public string? VectorIsa { get; set; }
    public string? Runtime { get; set; }
    public string? OnnxRuntime { get; set; }
    public int? Threads { get; set; }
}

internal sealed class BenchModelEntry
{
    public string? Label { get; set; }
    public string? Path { get; set; }
    public long? InitializerBytes { get; set; }
    public long? SessionWeightBytes { get; set; }
    public Dictionary<string, string>? KernelChoices { get; set; }
}

internal sealed class TimingEntry
{
    public double? Median { get; set; }
    public double? P25 { get; set; }
    public double? P75 { get; set; }
    public double? Min { get; set; }
}

internal sealed class BenchResultEntry
{
    public int? Batch { get; set; }
    public int? Sequence { get; set; }
    public string? Model { get; set; }
    public TimingEntry? SparrowMs { get; set; }
    public TimingEntry? OrtMs { get; set; }
    public long? Flops { get; set; }
    public double? SparrowOverOrt { get; set; }
    public double? SparrowOverBaselineOrt { get; set; }

    // Energy (issue 6): bench writes it nested, per engine, when it measured or estimated it.
    public BenchEnergyEntry? SparrowEnergy { get; set; }
    public BenchEnergyEntry? OrtEnergy { get; set; }

    // The same figures flat on the row: an older shape, still read because it costs nothing.
    public double? EnergyJoulesPerInference { get; set; }
    public double? InferencesPerJoule { get; set; }
    [JsonPropertyName("gCO2ePerMillion")]
    public double? GramsCo2ePerMillion { get; set; }
    public double? CostPerMillion { get; set; }
    public string? EnergyMethod { get; set; }
    public string? Currency { get; set; }
    /// <summary>ONNX Runtime's energy on the same model, when bench gives it.</summary>
    public double? OrtEnergyJoulesPerInference { get; set; }
}

/// <summary>Bench's top-level <c>energy</c> block.</summary>
internal sealed class BenchEnergySettings
{
    public string? EnergyMethod { get; set; }
    public bool? Estimated { get; set; }
    public string? Region { get; set; }
    public string? Currency { get; set; }
}

/// <summary>One engine's energy at one row of bench's results (<c>sparrowEnergy</c>, <c>ortEnergy</c>).</summary>
internal sealed class BenchEnergyEntry
{
    public double? EnergyJoulesPerInference { get; set; }
    public double? InferencesPerJoule { get; set; }
    [JsonPropertyName("gCO2ePerMillion")]
    public double? GramsCo2ePerMillion { get; set; }
    public double? CostPerMillion { get; set; }
    public string? EnergyMethod { get; set; }
    public bool? Estimated { get; set; }
    public double? CpuSecondsPerInference { get; set; }
}

/// <summary><c>sparrow eval --json</c>.</summary>
internal sealed class EvalFile
{
    public string? Command { get; set; }
    public string? Reference { get; set; }
    public List<EvalTaskInfo>? Tasks { get; set; }
    public List<EvalResultEntry>? Results { get; set; }
}

internal sealed class EvalTaskInfo
{
    public string? Name { get; set; }
    public List<string>? Classes { get; set; }
    public int? TrainItems { get; set; }
    public int? TestItems { get; set; }
}

internal sealed class EvalResultEntry
{
    public string? Model { get; set; }
    public double? MeanCosine { get; set; }
    public double? MinCosine { get; set; }
    public int? Sentences { get; set; }
    public bool? IsReference { get; set; }
    public List<EvalTaskEntry>? Tasks { get; set; }
    public List<EvalDifferenceEntry>? VersusReference { get; set; }
}

internal sealed class EvalTaskEntry
{
    public string? Task { get; set; }
    public double? Accuracy { get; set; }
    public double? StandardError { get; set; }
    public int? TestItems { get; set; }
}

internal sealed class EvalDifferenceEntry
{
    public string? Task { get; set; }
    public double? Difference { get; set; }
    public double? StandardError { get; set; }
}

/// <summary><c>sparrow sensitivity --json</c>.</summary>
internal sealed class SensitivityFile
{
    public string? Command { get; set; }
    public string? Model { get; set; }
    public string? Method { get; set; }
    public string? Quality { get; set; }
    public List<double>? Sparsities { get; set; }
    public List<SensitivityLayerEntry>? Layers { get; set; }
}

internal sealed class SensitivityLayerEntry
{
    public string? Weight { get; set; }
    public string? Label { get; set; }
    public string? OpType { get; set; }
    public int[]? Shape { get; set; }
    public long? Parameters { get; set; }
    public List<double>? Losses { get; set; }
}

/// <summary>Which command wrote a JSON file, told by the members only that command writes.</summary>
internal enum ResultKind
{
    Bench,
    Eval,
    Sensitivity,
}

internal static class ResultFileReader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Reads one results file; a file that is not JSON, or not the JSON of bench, eval or sensitivity, is a usage error naming it.</summary>
    public static (ResultKind Kind, object File) Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot be read ({e.Message}).");
        }
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var kind = Classify(document.RootElement)
                ?? throw new UsageException($"{path} is JSON but not results of sparrow bench, eval or sensitivity (written with --json); the report cannot use it.");
            object? file = kind switch
            {
                ResultKind.Bench => document.RootElement.Deserialize<BenchFile>(Options),
                ResultKind.Eval => document.RootElement.Deserialize<EvalFile>(Options),
                _ => document.RootElement.Deserialize<SensitivityFile>(Options),
            };
            return (kind, file ?? throw new UsageException($"{path} holds no results."));
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path} is not readable as results of sparrow bench, eval or sensitivity: {e.Message}");
        }
    }

    internal static ResultKind? Classify(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        if (Has(root, "results", out var results) && results.ValueKind == JsonValueKind.Array)
        {
            var first = results.EnumerateArray().FirstOrDefault();
            if (first.ValueKind == JsonValueKind.Object && Has(first, "sparrowMs", out _)) return ResultKind.Bench;
            if (first.ValueKind == JsonValueKind.Object && Has(first, "meanCosine", out _)) return ResultKind.Eval;
            // Empty results: the other members still say which command wrote it.
            if (first.ValueKind == JsonValueKind.Undefined && Has(root, "machine", out _)) return ResultKind.Bench;
            if (first.ValueKind == JsonValueKind.Undefined && Has(root, "reference", out _)) return ResultKind.Eval;
            return null;
        }
        if (Has(root, "layers", out var layers) && layers.ValueKind == JsonValueKind.Array && Has(root, "sparsities", out _)) return ResultKind.Sensitivity;
        return null;
    }

    private static bool Has(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        value = default;
        return false;
    }
}
