namespace Sparrow.Cli.Execution.Demo;

/// <summary>
/// How much work each step of <c>sparrow demo</c> does. <see cref="Full"/> is sized to finish within 5 minutes on
/// 2 cores with numbers worth reading; <see cref="Quick"/> runs every step in seconds, for tests.
/// </summary>
internal sealed record DemoSettings
{
    /// <summary>Calibration sentences for Wanda and SparseGPT (taken from Sparrow's built-in sample).</summary>
    public required int CalibrationSentences { get; init; }

    /// <summary>Held-out sentences for embedding fidelity (from Sparrow's 64).</summary>
    public required int FidelitySentences { get; init; }

    /// <summary>Items per task, null for the whole shipped sample.</summary>
    public required int? FortunesItems { get; init; }

    public required int? SpamItems { get; init; }

    public required string Batches { get; init; }

    public required string Sequences { get; init; }

    /// <summary>Untimed rounds before measuring (the benchmark adds at least 3 s of them).</summary>
    public required int Warmup { get; init; }

    /// <summary>Timed rounds of every model in Sparrow and ONNX Runtime.</summary>
    public required int Runs { get; init; }

    public bool IsQuick { get; init; }

    public static DemoSettings Full { get; } = new()
    {
        CalibrationSentences = 64,
        FidelitySentences = 64,
        FortunesItems = null,
        SpamItems = null,
        Batches = "1,32",
        Sequences = "128",
        Warmup = 3,
        Runs = 10,
    };

    public static DemoSettings Quick { get; } = new()
    {
        CalibrationSentences = 8,
        FidelitySentences = 16,
        FortunesItems = 96,
        SpamItems = 40,
        Batches = "1,2",
        Sequences = "16",
        Warmup = 0,
        Runs = 2,
        IsQuick = true,
    };
}
