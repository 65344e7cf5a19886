using System.Diagnostics;
using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Runtime.Sparsity;

/// <summary>
/// Chooses, for each constant weight of a session's MatMul, Gemm and Linear nodes, dense (packed for our GEMM)
/// or one entry of <see cref="SparseKernelTable"/>, by timing the candidates on this machine at one row and at a
/// batch of rows with the session's thread count (of those within 10% of the fastest, the smallest), and keeps one
/// form per weight (memory). Weights with few zeros stay dense without measuring; results are cached per machine
/// and shape (<see cref="KernelChoiceCache"/>).
/// Used while a session is built, on one thread.
/// </summary>
internal sealed class WeightKernelSelector
{
    public const string DenseName = "Dense";
    public const string AutoName = "auto";

    /// <summary>Below this fraction of zeros no sparse format beats the dense GEMM, so nothing is measured.</summary>
    public const double SparsityThreshold = 0.3;

    /// <summary>Rows of the batch measurement: a batch of a few sequences' tokens.</summary>
    public const int BatchRows = 64;

    /// <summary>Untimed rounds over all candidates before the timed ones.</summary>
    private const int WarmupRounds = 2;

    /// <summary>
    /// Timed rounds: at least <see cref="MinRounds"/>, then until the rounds took about <see cref="RoundsBudget"/>
    /// (MiniLM's three weight shapes tune in well under a second), at most <see cref="MaxRounds"/>.
    /// </summary>
    private const int MinRounds = 5;
    private const int MaxRounds = 40;
    private static readonly TimeSpan RoundsBudget = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// A candidate this close to the fastest counts as fast enough, and then the smallest one wins: a sparse weight
    /// at 90% zeros takes a sixth of the memory, worth more than a few percent of one layer's time (and short
    /// timing runs on a busy machine differ by about this much anyway).
    /// </summary>
    private const double TimeTolerance = 0.10;

    private readonly int _threads;
    private readonly SparseKernelTable.Entry? _forced;
    private readonly bool _forceDense;
    private readonly KernelChoiceCache? _cache;
    /// <summary>This session's measurements by cache key, so that weights of one shape and kept count are timed once.</summary>
    private readonly Dictionary<string, (CachedChoice Choice, string WeightName)> _measuredNow = new();
    private readonly List<WeightKernelChoice> _choices = new();
    private readonly Dictionary<(string Name, bool Transposed), (PreparedWeight Weight, WeightKernelChoice Choice)> _prepared = new();

    public WeightKernelSelector(SessionOptions options)
    {
        _threads = options.EffectiveThreads;
        var kernel = ResolveKernelName(options.SparseKernel);
        _forceDense = kernel == DenseName;
        _forced = kernel is AutoName or DenseName ? null : SparseKernelTable.Find(kernel);
        if (options.UseKernelCache) _cache = new KernelChoiceCache(options.KernelCachePath ?? KernelChoiceCache.DefaultPath);
    }

    public IReadOnlyList<WeightKernelChoice> Choices => _choices;

    /// <summary>Every distinct prepared form (a weight shared by nodes counts once).</summary>
    public IEnumerable<PreparedWeight> PreparedWeights => _prepared.Values.Select(p => p.Weight);

    /// <summary>
    /// "auto", "dense" or a kernel table entry's exact name for a user's spelling (any case); an unknown name
    /// is an <see cref="ArgumentException"/> listing the names it could be.
    /// </summary>
    public static string ResolveKernelName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || string.Equals(name.Trim(), AutoName, StringComparison.OrdinalIgnoreCase)) return AutoName;
        var trimmed = name.Trim();
        if (string.Equals(trimmed, DenseName, StringComparison.OrdinalIgnoreCase)) return DenseName;
        var entry = SparseKernelTable.All.FirstOrDefault(e => string.Equals(e.Name, trimmed, StringComparison.OrdinalIgnoreCase));
        return entry?.Name ?? throw new ArgumentException(
            $"Unknown sparse kernel '{name}'. Use auto, dense or one of: {string.Join(", ", SparseKernelTable.All.Select(e => e.Name))}.",
            nameof(SessionOptions.SparseKernel));
    }

    /// <summary>
    /// The form <paramref name="node"/> multiplies by. <paramref name="weight"/> is ONNX's [K, N], or [N, K] when
    /// <paramref name="transposed"/> (Gemm with transB=1). <paramref name="denseReason"/>: the operator can only
    /// use the dense form, and why.
    /// </summary>
    public PreparedWeight Prepare(Node node, string weightName, Tensor<float> weight, bool transposed, string? denseReason = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"A weight must be 2-D, got {TensorShape.Format(weight.Shape)}.");
        if (_prepared.TryGetValue((weightName, transposed), out var shared))
        {
            // One form per weight, even when several nodes read it.
            _choices.Add(shared.Choice with { NodeName = node.DisplayName, Reason = $"{shared.Choice.Reason} (shared with another node)" });
            return shared.Weight;
        }
        var (prepared, choice) = Choose(node, weightName, weight, transposed, denseReason);
        _prepared[(weightName, transposed)] = (prepared, choice);
        _choices.Add(choice);
        return prepared;
    }

    /// <summary>Writes what was measured to the cache file (when caching is on).</summary>
    public void SaveCache() => _cache?.Save();

    private (PreparedWeight, WeightKernelChoice) Choose(Node node, string weightName, Tensor<float> weight, bool transposed, string? denseReason)
    {
        int rows = transposed ? weight.Shape[0] : weight.Shape[1];
        int columns = transposed ? weight.Shape[1] : weight.Shape[0];
        var values = weight.Span;
        long kept = 0;
        foreach (var v in values) if (v != 0f) kept++;
        var total = (long)rows * columns;
        var sparsity = total == 0 ? 0 : 1 - (double)kept / total;
        var denseBytes = total * sizeof(float);

        WeightKernelChoice Describe(PreparedWeight p, string kernel, KernelChoiceSource source, string reason, IReadOnlyList<KernelTiming>? timings = null) =>
            new(node.DisplayName, weightName, rows, columns, sparsity, kernel,
                p.Sparse?.Description ?? $"dense float32, packed for the GEMM ({Sgemm.InstructionSet})",
                p.Bytes, denseBytes, source, reason, timings ?? [], BatchRows);

        PreparedWeight Dense() => PreparedWeight.Dense(PackedMatrix.Pack(weight.Span, columns, rows, 0, transposed, _threads));

        if (denseReason is not null)
        {
            var p = Dense();
            return (p, Describe(p, DenseName, KernelChoiceSource.Required, denseReason));
        }
        if (_forceDense)
        {
            var p = Dense();
            return (p, Describe(p, DenseName, KernelChoiceSource.Forced, "forced: dense"));
        }
        if (sparsity < SparsityThreshold)
        {
            // A weight with few zeros (an unpruned layer) is never worth a sparse format, forced or not.
            var p = Dense();
            var why = $"{sparsity * 100:0}% zeros, below {SparsityThreshold * 100:0}%: dense without measuring";
            return (p, Describe(p, DenseName, KernelChoiceSource.Threshold, _forced is null ? why : $"{why} (forced {_forced.Name} is for sparse weights)"));
        }
        var matrix = ToRowsByColumns(values, rows, columns, transposed);
        string? fallbackReason = null;
        if (_forced is { } forced)
        {
            if (forced.TryCreate(matrix, rows, columns, null) is { } sparse)
            {
                var p = PreparedWeight.FromSparse(sparse);
                return (p, Describe(p, forced.Name, KernelChoiceSource.Forced, $"forced: {forced.Name}"));
            }
            fallbackReason = $"forced {forced.Name} cannot hold this weight (it breaks the {forced.Pattern?.N}:{forced.Pattern?.M} pattern)";
        }

        var patterns = string.Join(",", SparseKernelTable.All.Select(e => e.Pattern).OfType<(int N, int M)>().Distinct()
            .Where(p => NMSparseMatrix.Follows(matrix, rows, columns, p.N, p.M)).Select(p => $"{p.N}:{p.M}"));
        var key = KernelChoiceCache.Key(rows, columns, kept, _threads, patterns);
        // A fallback chooses among the other candidates only: its own key, and never persisted.
        if (fallbackReason is not null) key += $" | without {_forced!.Name}";
        if (_measuredNow.TryGetValue(key, out var earlier)
            && FromCache(earlier.Choice, KernelChoiceSource.Measured, $"as {earlier.WeightName} (same shape and kept count), measured in this session") is { } reused)
            return reused;
        if (fallbackReason is null && _cache?.Find(key) is { } cached
            && FromCache(cached, KernelChoiceSource.Cached, $"cached: measured {cached.Measured:u}") is { } fromFile)
            return fromFile;

        var (best, measured, skipped) = Measure(values, matrix, rows, columns, transposed, denseBytes);
        var reason = $"measured {measured.Count} candidates at 1 and {BatchRows} rows, {_threads} thread(s)";
        if (skipped > 0) reason += $"; {skipped} formats skipped (no smaller than dense)";
        if (fallbackReason is not null) reason = $"{fallbackReason}; {reason}";
        var record = new CachedChoice
        {
            Kernel = best.Name,
            Measured = DateTime.UtcNow,
            Milliseconds = measured.ToDictionary(t => t.Kernel, t => new[] { t.OneRowMilliseconds, t.BatchMilliseconds }),
        };
        _measuredNow[key] = (record, weightName);
        if (fallbackReason is null) _cache?.Add(key, record);
        return (best.Weight, Describe(best.Weight, best.Name, fallbackReason is null ? KernelChoiceSource.Measured : KernelChoiceSource.Fallback, reason, measured));

        // A choice made before; null when its kernel is gone or does not hold this weight's mask (then measure).
        (PreparedWeight, WeightKernelChoice)? FromCache(CachedChoice choice, KernelChoiceSource source, string why)
        {
            var timings = choice.Milliseconds?.Where(kv => kv.Value is { Length: 2 }).Select(kv => new KernelTiming(kv.Key, kv.Value[0], kv.Value[1])).ToArray();
            if (fallbackReason is not null)
            {
                source = KernelChoiceSource.Fallback;
                why = $"{fallbackReason}; {why}";
            }
            if (string.Equals(choice.Kernel, DenseName, StringComparison.Ordinal))
            {
                var p = Dense();
                return (p, Describe(p, DenseName, source, why, timings));
            }
            if (SparseKernelTable.All.FirstOrDefault(e => e.Name == choice.Kernel)?.TryCreate(matrix, rows, columns, null) is { } sparse)
            {
                var p = PreparedWeight.FromSparse(sparse);
                return (p, Describe(p, choice.Kernel, source, why, timings));
            }
            return null;
        }
    }

    /// <summary>Times dense and every table entry that holds the weight; returns the smallest of those within <see cref="TimeTolerance"/> of the fastest.</summary>
    private ((string Name, PreparedWeight Weight) Best, List<KernelTiming> Timings, int Skipped) Measure(
        ReadOnlySpan<float> values, float[] matrix, int rows, int columns, bool transposed, long denseBytes)
    {
        WarmUpOnce(_threads);
        var candidates = new List<(string Name, PreparedWeight Weight)>
        {
            (DenseName, PreparedWeight.Dense(PackedMatrix.Pack(values, columns, rows, 0, transposed, _threads))),
        };
        var skipped = 0;
        foreach (var entry in SparseKernelTable.All)
        {
            if (entry == _forced) continue; // a forced entry only gets here when it cannot hold the weight
            if (entry.TryCreate(matrix, rows, columns, null) is not { } sparse) continue;
            if (sparse.SizeInBytes >= denseBytes) { skipped++; continue; }
            candidates.Add((entry.Name, PreparedWeight.FromSparse(sparse)));
        }

        var random = new Random(20261128);
        var x = new float[BatchRows * columns];
        for (var i = 0; i < x.Length; i++) x[i] = random.NextSingle() * 2 - 1;
        var y = new float[BatchRows * rows];
        var one = new double[candidates.Count];
        var batch = new double[candidates.Count];
        Array.Fill(one, double.MaxValue);
        Array.Fill(batch, double.MaxValue);
        // Every kernel runs a few times before any is timed (JIT, first touch of its data), then the candidates
        // take turns, round after round, so that a busy moment on the machine does not fall on one of them
        // only; each keeps its fastest time.
        var timedFrom = 0L;
        for (var round = -WarmupRounds; round < MaxRounds; round++)
        {
            if (round == 0) timedFrom = Stopwatch.GetTimestamp();
            for (var c = 0; c < candidates.Count; c++)
            {
                var weight = candidates[c].Weight;
                var t0 = Stopwatch.GetTimestamp();
                weight.Multiply(x, 1, y, default, FusedActivation.None, _threads);
                var t1 = Stopwatch.GetTimestamp();
                weight.Multiply(x, BatchRows, y, default, FusedActivation.None, _threads);
                var t2 = Stopwatch.GetTimestamp();
                if (round < 0) continue;
                one[c] = Math.Min(one[c], Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                batch[c] = Math.Min(batch[c], Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            }
            if (round + 1 >= MinRounds && Stopwatch.GetElapsedTime(timedFrom) >= RoundsBudget) break;
        }
        var timings = candidates.Select((c, i) => new KernelTiming(c.Name, one[i], batch[i])).ToList();
        var fastest = timings.Min(t => t.TotalMilliseconds);
        var bestIndex = -1;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (timings[i].TotalMilliseconds > fastest * (1 + TimeTolerance)) continue;
            if (bestIndex < 0 || candidates[i].Weight.Bytes < candidates[bestIndex].Weight.Bytes) bestIndex = i;
        }
        return (candidates[bestIndex], timings, skipped);
    }

    private static readonly Lock WarmUpLock = new();
    private static bool _warmedUp;

    /// <summary>
    /// Once per process, every kernel runs a few dozen times on a small matrix first, so that the JIT has compiled
    /// (and begun to optimise) the code paths before the first weight's candidates are compared.
    /// </summary>
    private static void WarmUpOnce(int threads)
    {
        lock (WarmUpLock)
        {
            if (_warmedUp) return;
            const int size = 96, rows = BatchRows;
            var random = new Random(7);
            var dense = new float[size * size];
            for (var i = 0; i < dense.Length; i++)
                if (i % 4 == 0) dense[i] = random.NextSingle(); // 3 zeros in every 4: fits every entry, 2:4 included
            var x = new float[rows * size];
            for (var i = 0; i < x.Length; i++) x[i] = random.NextSingle();
            var y = new float[rows * size];
            var weights = SparseKernelTable.All.Select(e => e.TryCreate(dense, size, size, null)).OfType<ISparseMatrix>()
                .Select(PreparedWeight.FromSparse).Prepend(PreparedWeight.Dense(PackedMatrix.Pack(dense, size, size, 0, false, threads))).ToArray();
            for (var repetition = 0; repetition < 40; repetition++)
                foreach (var w in weights)
                {
                    // One row, a few rows and the batch the timings use: every path the timed runs take.
                    w.Multiply(x, 1, y, default, FusedActivation.None, threads);
                    w.Multiply(x, 8, y, default, FusedActivation.None, threads);
                    w.Multiply(x, rows, y, default, FusedActivation.None, threads);
                }
            _warmedUp = true;
        }
    }

    /// <summary>W as [N = rows, K = columns] row-major, the layout of the sparse formats.</summary>
    private static float[] ToRowsByColumns(ReadOnlySpan<float> values, int rows, int columns, bool alreadyRowsByColumns)
    {
        if (alreadyRowsByColumns) return values.ToArray();
        var result = new float[values.Length];
        // values is [K = columns, N = rows].
        for (var k = 0; k < columns; k++)
        {
            var source = values.Slice(k * rows, rows);
            for (var n = 0; n < rows; n++) result[n * columns + k] = source[n];
        }
        return result;
    }
}
