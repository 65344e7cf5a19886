using System.Diagnostics;
using System.Globalization;
using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Cli.Execution;

/// <summary>A weight shape as a linear layer stores it: [out, in].</summary>
internal sealed record KernelShape(int Out, int In)
{
    public string Name => $"{Out}x{In}";

    /// <summary>MiniLM's (hidden 384, FFN 1536) and LLM-like (Llama-7B's 4096 hidden, 11008 FFN) weights.</summary>
    public static IReadOnlyList<KernelShape> Defaults { get; } =
        [new(384, 384), new(1536, 384), new(384, 1536), new(4096, 4096), new(11008, 4096)];

    /// <summary>"384x1536,4096x4096": OUTxIN, comma-separated.</summary>
    public static KernelShape[] Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException("--shapes needs at least one shape, e.g. --shapes 384x1536,4096x4096.");
        return parts.Select(p =>
        {
            var xy = p.Split('x', 'X');
            if (xy.Length != 2 || !int.TryParse(xy[0], NumberStyles.None, CultureInfo.InvariantCulture, out var o) || o < 1
                || !int.TryParse(xy[1], NumberStyles.None, CultureInfo.InvariantCulture, out var i) || i < 1)
                throw new UsageException($"--shapes: '{p}' is not a weight shape OUTxIN with both sizes 1 or more, e.g. 4096x4096.");
            if ((long)o * i > 1L << 28) throw new UsageException($"--shapes: {p} has more than {1L << 28:N0} weights; pick a smaller shape.");
            return new KernelShape(o, i);
        }).Distinct().ToArray();
    }
}

/// <summary>How a benchmark weight is sparsified: unstructured magnitude pruning to a fraction, or an N:M pattern.</summary>
internal sealed record SparsityLevel(string Label, double Fraction, (int N, int M)? Pattern)
{
    public static IReadOnlyList<SparsityLevel> Defaults { get; } = Parse("50,70,80,90,95,2:4");

    /// <summary>"50,70,90,2:4": percentages (or fractions below 1) and N:M patterns.</summary>
    public static SparsityLevel[] Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException("--sparsity needs at least one level, e.g. --sparsity 50,90,2:4.");
        return parts.Select(ParseOne).DistinctBy(l => l.Label).ToArray();
    }

    private static SparsityLevel ParseOne(string p)
    {
        var colon = p.IndexOf(':');
        if (colon > 0)
        {
            if (!int.TryParse(p[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                || !int.TryParse(p[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var m) || n < 1 || m <= n || m > 64)
                throw new UsageException($"--sparsity: '{p}' is not an N:M pattern with 1 <= N < M <= 64, e.g. 2:4.");
            return new SparsityLevel($"{n}:{m}", 1 - (double)n / m, (n, m));
        }
        if (!double.TryParse(p.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
            throw new UsageException($"--sparsity: '{p}' is neither a percentage (e.g. 90) nor an N:M pattern (e.g. 2:4).");
        var fraction = value < 1 && !p.EndsWith('%') ? value : value / 100;
        if (fraction >= 1) throw new UsageException($"--sparsity: '{p}' leaves no weight; give a sparsity below 100%.");
        var percent = fraction * 100;
        return new SparsityLevel(percent.ToString("0.##", CultureInfo.InvariantCulture) + "%", fraction, null);
    }

    public bool IsUnstructured => Pattern is null;
}

/// <summary>Benchmark weights: fixed-seed random values and magnitude masks.</summary>
internal static class KernelBenchWeights
{
    /// <summary>Values uniform in (-1, 1) and never exactly zero, so that a mask alone decides which are kept.</summary>
    public static float[] Dense(KernelShape shape, int seed)
    {
        var random = new Random(seed);
        var w = new float[(long)shape.Out * shape.In];
        for (var i = 0; i < w.Length; i++)
        {
            var v = (float)(random.NextDouble() * 2 - 1);
            w[i] = v == 0 ? 0.5f : v;
        }
        return w;
    }

    /// <summary>
    /// The mask magnitude pruning would pick: unstructured, the smallest |w| go (the values are uniform, so
    /// |w| &lt; fraction is the right threshold without sorting); N:M, the N largest |w| of each group of M
    /// consecutive inputs stay.
    /// </summary>
    public static bool[] Mask(float[] dense, KernelShape shape, SparsityLevel level)
    {
        var mask = new bool[dense.Length];
        if (level.Pattern is not { } p)
        {
            var threshold = (float)level.Fraction;
            for (var i = 0; i < dense.Length; i++) mask[i] = Math.Abs(dense[i]) >= threshold;
            return mask;
        }
        Span<int> order = stackalloc int[p.M];
        for (var r = 0; r < shape.Out; r++)
        {
            var row = (long)r * shape.In;
            for (var g = 0; g < shape.In; g += p.M)
            {
                var size = Math.Min(p.M, shape.In - g);
                var group = order[..size];
                for (var k = 0; k < size; k++) group[k] = k;
                // Largest magnitude first; a handful of elements, so a simple insertion sort.
                for (var a = 1; a < size; a++)
                    for (var b = a; b > 0 && Math.Abs(dense[row + g + group[b]]) > Math.Abs(dense[row + g + group[b - 1]]); b--)
                        (group[b], group[b - 1]) = (group[b - 1], group[b]);
                for (var k = 0; k < Math.Min(p.N, size); k++) mask[row + g + group[k]] = true;
            }
        }
        return mask;
    }

    /// <summary>The dense values with the masked-out ones set to zero.</summary>
    public static float[] Apply(float[] dense, bool[] mask)
    {
        var result = new float[dense.Length];
        for (var i = 0; i < dense.Length; i++) result[i] = mask[i] ? dense[i] : 0f;
        return result;
    }

    public static double ZeroFraction(bool[] mask) => mask.Length == 0 ? 0 : 1 - (double)mask.Count(k => k) / mask.Length;
}

/// <summary>What <c>sparrow bench kernels</c> measures and how long it may take.</summary>
internal sealed record KernelBenchSettings(
    IReadOnlyList<KernelShape> Shapes, IReadOnlyList<int> Rows, IReadOnlyList<SparsityLevel> Levels,
    IReadOnlyList<SparseKernelTable.Entry> Kernels, int Threads, int Runs, TimeSpan Warmup, TimeSpan TimePerGroup,
    long BandwidthBufferBytes, int Seed, bool WithOrt = true);

/// <summary>One sparse kernel at one shape, row count and sparsity, with the dense baselines measured in the same turns.</summary>
internal sealed record KernelResult(
    KernelShape Shape, int Rows, SparsityLevel Level, double ActualSparsity, string Kernel, string Description, long WeightBytes,
    BenchStats Time, BenchStats Dense, BenchStats? Ort)
{
    public double Flops => 2.0 * Rows * Shape.Out * Shape.In;

    public double SpeedupOverDense => Dense.Median / Time.Median;

    public double SpeedupOverOrt => Ort is { } o ? o.Median / Time.Median : double.NaN;

    /// <summary>Bytes read per call at one row: the weight format and X.</summary>
    public double BytesRead => WeightBytes + (double)Rows * Shape.In * sizeof(float);
}

/// <summary>Our dense GEMM and ONNX Runtime's MatMul at one shape and row count, over every sparsity level's turns.</summary>
internal sealed record DenseBaseline(KernelShape Shape, int Rows, long DenseBytes, long OrtBytes, BenchStats Dense, BenchStats? Ort)
{
    public double Flops => 2.0 * Rows * Shape.Out * Shape.In;

    public double XBytes => (double)Rows * Shape.In * sizeof(float);
}

internal sealed record KernelBenchResults(
    KernelBenchSettings Settings, double BandwidthBytesPerSecond, IReadOnlyList<KernelResult> Results, IReadOnlyList<DenseBaseline> Baselines);

/// <summary>
/// Times every chosen sparse kernel against our dense GEMM (a prepacked weight, as the Linear operator runs it)
/// and ONNX Runtime's MatMul: per shape and sparsity level the matrices are built once; per row count all
/// candidates take turns (the first one rotating), after a warm-up, and medians are kept.
/// </summary>
internal static class KernelBench
{
    /// <summary>Groups measured by <see cref="Run"/>: one per shape, sparsity level and row count.</summary>
    public static int Groups(KernelBenchSettings settings) => settings.Shapes.Count * settings.Levels.Count * settings.Rows.Count;

    /// <param name="progress">Told each finished group (see <see cref="Groups"/>), for a progress bar.</param>
    /// <param name="remark">Told the memory bandwidth measured before the groups.</param>
    public static KernelBenchResults Run(KernelBenchSettings settings, Action<string>? progress = null, Action<string>? remark = null)
    {
        var bandwidth = MemoryBandwidth.Measure(settings.Threads, settings.BandwidthBufferBytes);
        if (settings.Warmup > TimeSpan.Zero) WarmUpCode(settings);
        remark?.Invoke($"memory read bandwidth {bandwidth / 1e9:0.0} GB/s ({settings.Threads} thread(s), {settings.BandwidthBufferBytes >> 20} MB buffer)");
        var results = new List<KernelResult>();
        var baselines = new List<DenseBaseline>();
        foreach (var shape in settings.Shapes)
        {
            var dense = KernelBenchWeights.Dense(shape, settings.Seed);
            // The dense candidates multiply by the unpruned weight: their time does not depend on the values.
            var packed = PackedMatrix.Pack(dense, shape.In, shape.Out, transposed: true, maxThreads: settings.Threads);
            using var ort = settings.WithOrt ? new OrtMatMul(dense, shape.Out, shape.In, settings.Threads) : null;
            var denseSamples = settings.Rows.ToDictionary(r => r, _ => new List<double>());
            var ortSamples = settings.Rows.ToDictionary(r => r, _ => new List<double>());
            foreach (var level in settings.Levels)
            {
                var mask = KernelBenchWeights.Mask(dense, shape, level);
                var pruned = KernelBenchWeights.Apply(dense, mask);
                var actual = KernelBenchWeights.ZeroFraction(mask);
                var matrices = new List<(SparseKernelTable.Entry Entry, ISparseMatrix Matrix)>();
                foreach (var entry in settings.Kernels)
                    if (entry.TryCreate(pruned, shape.Out, shape.In, mask) is { } matrix) matrices.Add((entry, matrix));
                foreach (var rows in settings.Rows)
                {
                    var group = MeasureGroup(settings, shape, rows, packed, ort, matrices.Select(m => m.Matrix).ToArray());
                    denseSamples[rows].AddRange(group[0]);
                    if (ort is not null) ortSamples[rows].AddRange(group[1]);
                    var denseStats = BenchStats.Of(group[0]);
                    var ortStats = ort is not null ? BenchStats.Of(group[1]) : null;
                    var first = ort is not null ? 2 : 1;
                    for (var k = 0; k < matrices.Count; k++)
                        results.Add(new KernelResult(shape, rows, level, actual, matrices[k].Entry.Name, matrices[k].Matrix.Description,
                            matrices[k].Matrix.SizeInBytes, BenchStats.Of(group[first + k]), denseStats, ortStats));
                    progress?.Invoke($"{shape.Name} rows {rows} {level.Label}: dense {BenchOutput.Ms(denseStats.Median)} ms"
                        + string.Concat(matrices.Select((m, k) => $", {m.Entry.Name} {BenchOutput.Ms(BenchStats.Of(group[first + k]).Median)} ms")));
                }
            }
            foreach (var rows in settings.Rows)
                baselines.Add(new DenseBaseline(shape, rows, packed.ByteCount, (long)shape.Out * shape.In * sizeof(float),
                    BenchStats.Of(denseSamples[rows]), ort is not null ? BenchStats.Of(ortSamples[rows]) : null));
        }
        // Measured again at the end and the better kept: other processes may have used the memory bus the first time.
        bandwidth = Math.Max(bandwidth, MemoryBandwidth.Measure(settings.Threads, settings.BandwidthBufferBytes));
        return new KernelBenchResults(settings, bandwidth, results, baselines);
    }

    /// <summary>
    /// Runs every candidate on a small weight for a second or so before anything is timed: .NET compiles hot
    /// methods again, optimised, on a background timer, and the first groups would otherwise time the slow code.
    /// </summary>
    private static void WarmUpCode(KernelBenchSettings settings)
    {
        var shape = new KernelShape(256, 512);
        var dense = KernelBenchWeights.Dense(shape, settings.Seed);
        var packed = PackedMatrix.Pack(dense, shape.In, shape.Out, transposed: true, maxThreads: settings.Threads);
        var matrices = new List<ISparseMatrix>();
        foreach (var level in new[] { new SparsityLevel("90%", 0.9, null), new SparsityLevel("2:4", 0.5, (2, 4)) })
        {
            var mask = KernelBenchWeights.Mask(dense, shape, level);
            var pruned = KernelBenchWeights.Apply(dense, mask);
            foreach (var entry in settings.Kernels)
                if (entry.TryCreate(pruned, shape.Out, shape.In, mask) is { } m) matrices.Add(m);
        }
        var time = TimeSpan.FromSeconds(1.0 / Math.Min(3, settings.Rows.Count));
        foreach (var rows in settings.Rows.Order().Take(3))
            MeasureGroup(settings with { Warmup = time, Runs = 1, TimePerGroup = TimeSpan.Zero }, shape, rows, packed, null, matrices.ToArray());
    }

    /// <returns>Milliseconds per call of each candidate: dense, ORT (when present), then the sparse matrices in order.</returns>
    private static List<double>[] MeasureGroup(KernelBenchSettings settings, KernelShape shape, int rows, PackedMatrix packed, OrtMatMul? ort, ISparseMatrix[] sparse)
    {
        var random = new Random(settings.Seed + rows);
        var x = new float[rows * shape.In];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        var y = new float[rows * shape.Out];
        using var ortCall = ort?.Bind(x, new float[rows * shape.Out], rows);
        var threads = settings.Threads;
        var candidates = new List<Action> { () => Sgemm.Multiply(rows, x, shape.In, false, packed, y, shape.Out, maxThreads: threads) };
        if (ortCall is not null) candidates.Add(ortCall.Run);
        foreach (var m in sparse) candidates.Add(() => m.Multiply(x, rows, y, default, FusedActivation.None, threads));
        return Alternate(candidates, settings.Runs, settings.Warmup, settings.TimePerGroup);
    }

    /// <summary>
    /// Runs the candidates in turns (each turn starting one later, so none always follows the same one) until
    /// they have run <paramref name="warmup"/> long and at least once, then times turns until at least
    /// <paramref name="minRuns"/> and <paramref name="time"/> have passed (at most 200 turns). In a timed turn each
    /// candidate runs twice and only the second call is timed: the first call after another engine pays for waking
    /// its own threads (ONNX Runtime's pool or .NET's), and with three candidates in rotation one of them followed
    /// ONNX Runtime in two turns of three, the dense GEMM in one, so the order, not the kernels, set part of the
    /// medians (CSR at 32 rows on two threads: p25 0.044 ms, p75 0.080).
    /// </summary>
    internal static List<double>[] Alternate(IReadOnlyList<Action> candidates, int minRuns, TimeSpan warmup, TimeSpan time)
    {
        var samples = candidates.Select(_ => new List<double>()).ToArray();
        var clock = Stopwatch.StartNew();
        for (var turn = 0; turn < 1 || clock.Elapsed < warmup; turn++)
            foreach (var c in candidates) c();
        clock.Restart();
        for (var turn = 0; turn < minRuns || (clock.Elapsed < time && turn < 200); turn++)
            for (var j = 0; j < candidates.Count; j++)
            {
                var k = (j + turn) % candidates.Count;
                candidates[k]();
                var started = Stopwatch.GetTimestamp();
                candidates[k]();
                samples[k].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        return samples;
    }
}
