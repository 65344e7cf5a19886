using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Calibration;

/// <summary>How <see cref="Calibrator"/> runs the model.</summary>
public sealed class CalibrationOptions
{
    /// <summary>Also accumulate XᵀX per target (SparseGPT's Hessian); costs K² doubles and K² multiply-adds per row.</summary>
    public bool WithHessian { get; set; }

    /// <summary>
    /// A batch input of shape [batch, seq] whose zeros mark padding (BERT's attention mask): rows of X whose
    /// leading dimensions are [batch, seq] are skipped where it is 0, so that padding tokens do not count.
    /// Ignored when the batch has no such input or X's leading dimensions differ; null never skips.
    /// </summary>
    public string? PaddingMaskInput { get; set; } = "attention_mask";

    /// <summary>Threads per operator; 0: one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Run the session's graph passes. On by default: fusions never swallow a graph output, and every X is
    /// made one, so the values seen are those of the model as written, only computed faster.
    /// </summary>
    public bool OptimizeGraph { get; set; } = true;
}

/// <summary>
/// Runs a model through Sparrow's runtime on calibration batches and accumulates, per pruning target, the
/// statistics of the target's input X (<see cref="LayerInputStatistics"/>). Streams: each batch is run, its
/// X values are folded into the statistics and disposed before the next batch is read.
/// </summary>
/// <remarks>
/// The model is not changed: a copy lists every target's X as an extra graph output (the weights are shared,
/// not copied). X as rows [rows, K]: MatMul's first input with every leading dimension folded into rows (a
/// 1-D X is one row); Gemm's A, transposed first when transA = 1. Conv targets are skipped (not in the
/// result): their input channels meet the weight through a sliding window, so a per-channel norm is not the
/// per-column norm of an unfolded input, and calibration-based criteria do not handle them yet.
/// Targets that read the same X (Q, K and V) are accumulated once and get copies of the same statistics.
/// </remarks>
public static class Calibrator
{
    /// <summary>Whether <c>Run</c> gives statistics for this target (MatMul and Gemm do; Conv does not).</summary>
    public static bool Supports(PruningTarget target) => target.Node.OpType is "MatMul" or "Gemm" && target.Node.Domain.Length == 0;

    /// <summary>Statistics of each supported target's input over all batches, keyed by the target's weight name.</summary>
    public static IReadOnlyDictionary<string, LayerInputStatistics> Run(
        Model model, IReadOnlyList<PruningTarget> targets, IEnumerable<IReadOnlyDictionary<string, Tensor>> batches, bool withHessian = false) =>
        Run(model, targets, batches, new CalibrationOptions { WithHessian = withHessian });

    /// <summary>Statistics of each supported target's input over all batches, as <paramref name="options"/> say (Hessian, threads, progress).</summary>
    public static IReadOnlyDictionary<string, LayerInputStatistics> Run(
        Model model, IReadOnlyList<PruningTarget> targets, IEnumerable<IReadOnlyDictionary<string, Tensor>> batches, CalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(options);

        // One accumulator per distinct (X, transA, K): Q, K and V read one value and share it.
        var captures = new Dictionary<(string Value, bool Transposed, int Features), LayerInputStatistics>();
        var targetCapture = new List<(PruningTarget Target, (string, bool, int) Key)>();
        foreach (var target in targets)
        {
            if (!Supports(target)) continue;
            var key = CaptureKey(target);
            if (!captures.ContainsKey(key)) captures[key] = new LayerInputStatistics(key.Features, options.WithHessian);
            targetCapture.Add((target, key));
        }

        var probe = BuildProbe(model, captures.Keys.Select(k => k.Value));
        var session = new InferenceSession(probe, new SessionOptions
        {
            OptimizeGraph = options.OptimizeGraph,
            IntraOpThreads = options.IntraOpThreads,
            SparseKernel = "dense", // one pass over the data: measuring sparse kernels would cost more than it saves
            UseKernelCache = false,
        });
        using (session)
        {
            foreach (var batch in batches)
            {
                ArgumentNullException.ThrowIfNull(batch, nameof(batches));
                var outputs = session.Run(batch);
                try
                {
                    var mask = FindPaddingMask(batch, options.PaddingMaskInput);
                    foreach (var ((value, transposed, features), statistics) in captures)
                    {
                        var x = outputs.TryGetValue(value, out var produced) ? produced
                            : batch.TryGetValue(value, out var given) ? given
                            : throw new InvalidOperationException($"Calibration: the value '{value}' was not produced.");
                        Accumulate(statistics, x, transposed, features, mask, value);
                    }
                }
                finally
                {
                    foreach (var output in outputs.Values) output.Dispose();
                }
            }
        }

        var result = new Dictionary<string, LayerInputStatistics>();
        var handedOut = new HashSet<LayerInputStatistics>(ReferenceEqualityComparer.Instance);
        foreach (var (target, key) in targetCapture)
        {
            var statistics = captures[key];
            // Each target owns its statistics: a consumer may damp a Hessian in place.
            result[target.WeightName] = handedOut.Add(statistics) ? statistics : statistics.Copy();
        }
        return result;
    }

    /// <summary>A copy of the model (weights shared) whose outputs also list the given values, except graph inputs (read from the batch).</summary>
    internal static Model BuildProbe(Model model, IEnumerable<string> values)
    {
        var probe = model.Clone();
        var graphInputs = probe.Graph.Inputs.Select(i => i.Name).ToHashSet();
        var outputNames = probe.Graph.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var value in values)
        {
            if (graphInputs.Contains(value) && !probe.Graph.Initializers.ContainsKey(value)) continue;
            if (outputNames.Add(value)) probe.Graph.Outputs.Add(new ValueInfo(value, DataType.Float32, null));
        }
        return probe;
    }

    internal static IEnumerable<string> CapturedValues(IEnumerable<PruningTarget> targets) =>
        targets.Where(Supports).Select(t => CaptureKey(t).Value).Distinct();

    private static (string Value, bool Transposed, int Features) CaptureKey(PruningTarget target)
    {
        var node = target.Node;
        var x = node.Inputs[0];
        if (node.OpType == "Gemm")
        {
            var features = node.GetInt("transB", 0) == 1 ? target.Shape[1] : target.Shape[0];
            return (x, node.GetInt("transA", 0) == 1, features);
        }
        return (x, false, target.Shape[0]);
    }

    private static Tensor<long>? FindPaddingMask(IReadOnlyDictionary<string, Tensor> batch, string? name)
    {
        if (name is null || !batch.TryGetValue(name, out var tensor) || tensor.Rank != 2) return null;
        return tensor switch
        {
            Tensor<long> longs => longs,
            _ => null,
        };
    }

    private static void Accumulate(LayerInputStatistics statistics, Tensor x, bool transposed, int features, Tensor<long>? mask, string value)
    {
        if (x is not Tensor<float> values)
            throw new InvalidOperationException($"Calibration: '{value}' is {x}, not float32.");
        var shape = x.Shape;
        if (transposed)
        {
            // Gemm's A with transA = 1 is [K, M]: its rows are the columns.
            if (x.Rank != 2 || shape[0] != features)
                throw new InvalidOperationException($"Calibration: Gemm input '{value}' is {x}; with transA = 1 it must be [{features}, M].");
            var rows = shape[1];
            var buffer = new float[(long)rows * features];
            var source = values.Span;
            for (var k = 0; k < features; k++)
                for (var m = 0; m < rows; m++) buffer[(long)m * features + k] = source[k * rows + m];
            statistics.Add(buffer, rows);
            return;
        }
        if (x.Rank == 0 || shape[^1] != features)
            throw new InvalidOperationException($"Calibration: '{value}' is {x}; its last dimension must be the weight's {features} input features.");
        var count = x.Length / Math.Max(features, 1);
        if (features == 0) return;
        var span = values.Span;
        if (mask is not null && x.Rank == 3 && shape[0] == mask.Shape[0] && shape[1] == mask.Shape[1])
        {
            // Real tokens are gathered into one block (one Add per batch: the Hessian is streamed once); padding rows are skipped.
            var flags = mask.Span;
            var real = 0;
            for (var row = 0; row < count; row++) if (flags[row] != 0) real++;
            if (real == count) { statistics.Add(span, count); return; }
            var gathered = new float[(long)real * features];
            var next = 0;
            for (var row = 0; row < count; row++)
                if (flags[row] != 0) span.Slice(row * features, features).CopyTo(gathered.AsSpan(next++ * features, features));
            statistics.Add(gathered, real);
            return;
        }
        statistics.Add(span, count);
    }
}
