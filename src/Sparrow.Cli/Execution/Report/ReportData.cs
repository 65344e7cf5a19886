namespace Sparrow.Cli.Execution.Report;

/// <summary>Everything the report shows, gathered from the input files and matched per model variant.</summary>
internal sealed class ReportData
{
    public List<Variant> Variants { get; } = [];

    /// <summary>Every input file, in the order read, with the command that wrote it (JSON) or what it is (.onnx).</summary>
    public List<SourceFile> Sources { get; } = [];

    public List<SensitivityFile> Sensitivities { get; } = [];

    /// <summary>The machine of the first bench file.</summary>
    public BenchMachine? Machine { get; set; }

    /// <summary>Downstream task names in the order eval wrote them.</summary>
    public List<string> Tasks { get; } = [];

    /// <summary>Things the reader should know about how the files were put together.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Each distinct batch size and sequence length measured, in the order first met.</summary>
    public IReadOnlyList<(int Batch, int? Sequence)> Configurations =>
        Variants.SelectMany(v => v.Latency).Select(l => (l.Batch, l.Sequence)).Distinct().ToArray();

    public bool HasEnergy => Variants.Any(v => v.Latency.Any(l => l.Energy is not null));

    public bool HasQuality => Variants.Any(v => v.MeanCosine is not null || v.Tasks.Count > 0);
}

internal sealed record SourceFile(string Path, string Kind, string? Command);

/// <summary>One model as the report shows it: its quality, speed, memory and sparsity, from whichever files mention it.</summary>
internal sealed class Variant(string name, string? fullPath)
{
    /// <summary>How the report names it: the file name, or the path when two variants share a file name.</summary>
    public string Name { get; set; } = name;

    /// <summary>The model file's normalised full path; null for the embedded model or when no file named it.</summary>
    public string? FullPath { get; set; } = fullPath;

    /// <summary>The dense model the others are compared with: bench's first model or eval's reference.</summary>
    public bool IsBaseline { get; set; }

    public double? MeanCosine { get; set; }
    public double? MinCosine { get; set; }
    public bool IsReference { get; set; }
    public Dictionary<string, TaskScore> Tasks { get; } = new(StringComparer.Ordinal);

    public List<LatencyRow> Latency { get; } = [];

    public long? InitializerBytes { get; set; }
    public long? SessionWeightBytes { get; set; }
    public IReadOnlyDictionary<string, string>? Kernels { get; set; }

    public ModelSparsity? Sparsity { get; set; }

    public string FileName => FullPath is null ? Name : System.IO.Path.GetFileName(FullPath);
}

/// <summary>Accuracy of a classifier on this model's embeddings; the difference to the reference on the same items when known.</summary>
internal sealed record TaskScore(double Accuracy, double? StandardError, double? Difference, double? DifferenceError);

/// <summary>One model at one batch size and sequence length, with the dense baseline of the same bench run.</summary>
/// <param name="DenseSparrowMs">Sparrow's median on the bench run's first model (the dense baseline) at the same size.</param>
/// <param name="DenseOrtMs">ONNX Runtime's median on that baseline.</param>
internal sealed record LatencyRow(int Batch, int? Sequence, TimingEntry Sparrow, TimingEntry? Ort, double? DenseSparrowMs, double? DenseOrtMs,
    string BaselineName, EnergyFigures? Energy)
{
    /// <summary>Dense Sparrow time over this model's Sparrow time: above 1, this model runs faster than the dense one.</summary>
    public double? SpeedupVsDense => Divide(DenseSparrowMs, Sparrow.Median);

    /// <summary>ONNX Runtime's time on the same model over Sparrow's.</summary>
    public double? SpeedupVsOrt => Divide(Ort?.Median, Sparrow.Median);

    /// <summary>ONNX Runtime's time on the dense baseline over Sparrow's time on this model: what a user switching gains.</summary>
    public double? SpeedupVsDenseOrt => Divide(DenseOrtMs, Sparrow.Median);

    public string Label => Sequence is { } s ? $"b{Batch} s{s}" : $"b{Batch}";

    private static double? Divide(double? a, double? b) => a is { } x && b is { } y && y > 0 && x > 0 ? x / y : null;
}

/// <summary>Energy per inference and what it costs, as bench reports it (issue 6).</summary>
internal sealed record EnergyFigures(double? JoulesPerInference, double? InferencesPerJoule, double? GramsCo2ePerMillion, double? CostPerMillion,
    string? Method, string? Currency, double? OrtJoulesPerInference);

/// <summary>The zeros of a model's prunable weights, as the model file holds them.</summary>
/// <param name="TargetParameters">Parameters of the weights a pruner targets (the pruning record's, else every MatMul/Gemm/Conv weight but embeddings and the classifier).</param>
internal sealed record ModelSparsity(string? Method, string? Pattern, long FileBytes, long TargetParameters, long TargetZeros,
    long AllParameters, long AllZeros, IReadOnlyList<LayerSparsityRow> Layers)
{
    public double Sparsity => TargetParameters == 0 ? 0 : (double)TargetZeros / TargetParameters;

    public double OverallSparsity => AllParameters == 0 ? 0 : (double)AllZeros / AllParameters;

    /// <summary>At least 1 % zeros: a dense model has a few exact zeros, and a record of pruning to 0 % is no pruning.</summary>
    public bool IsPruned => Sparsity >= 0.01;
}

/// <param name="Target">The sparsity the pruning record asked of this weight; null for a global target or no record.</param>
internal sealed record LayerSparsityRow(string Label, string Weight, double? Target, double Achieved, long Parameters);
