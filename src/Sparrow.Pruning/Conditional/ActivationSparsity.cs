using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Conditional;

/// <summary>How <see cref="ActivationSparsity.Calibrate"/> runs.</summary>
public sealed class ActivationSparsityOptions
{
    /// <summary>Magnitudes kept per distinct layer input (a fixed-seed reservoir sample); the quantile is taken over them.</summary>
    public int SamplesPerLayer { get; set; } = 1 << 20;

    /// <summary>Seed of the reservoir sampling.</summary>
    public long Seed { get; set; }

    /// <summary>Threads per operator while the model runs; 0: one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Which weights get a threshold; null: every default pruning target that is a MatMul (<see cref="PruningTargets.Find"/>: not the final classifier).</summary>
    public Func<PruningTarget, bool>? Include { get; set; }
}

/// <summary>
/// Training-free activation sparsity (TEAL-style): per layer, the magnitude threshold under which the given
/// fraction of the layer's input activations falls on calibration batches, run through Sparrow's runtime. Give
/// the result to <see cref="SessionOptions.ActivationThresholds"/>: one-row inputs (decoding) then skip the
/// weight columns of inputs at or under the threshold.
/// </summary>
/// <remarks>
/// Thresholds are calibrated on the dense model's activations, each layer on its own (TEAL's uniform
/// allocation; not its greedy per-block search). Layers that read the same value (Q, K and V) share one
/// threshold. Padding positions are not excluded: calibrate on unpadded batches.
/// </remarks>
public static class ActivationSparsity
{
    /// <summary>Thresholds keyed by weight initializer name, so that <paramref name="sparsity"/> of each layer's inputs are at or under its threshold.</summary>
    public static IReadOnlyDictionary<string, float> Calibrate(Model model, double sparsity,
        IEnumerable<IReadOnlyDictionary<string, Tensor>> batches, ActivationSparsityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), "The sparsity must be in [0, 1).");
        options ??= new ActivationSparsityOptions();
        if (options.SamplesPerLayer < 1) throw new ArgumentOutOfRangeException(nameof(options), "SamplesPerLayer must be 1 or more.");

        var targets = PruningTargets.Find(model.Graph)
            .Where(t => t.Node.OpType == "MatMul" && (options.Include?.Invoke(t) ?? true))
            .ToList();
        var samples = new Dictionary<string, Reservoir>();
        foreach (var target in targets)
            if (!samples.ContainsKey(target.Node.Inputs[0]))
                samples[target.Node.Inputs[0]] = new Reservoir(options.SamplesPerLayer, options.Seed + samples.Count);

        var probe = Calibrator.BuildProbe(model, samples.Keys);
        using (var session = new InferenceSession(probe, new SessionOptions
        {
            IntraOpThreads = options.IntraOpThreads, SparseKernel = "dense", UseKernelCache = false,
        }))
        {
            foreach (var batch in batches)
            {
                ArgumentNullException.ThrowIfNull(batch, nameof(batches));
                var outputs = session.Run(batch);
                try
                {
                    foreach (var (value, reservoir) in samples)
                    {
                        var x = outputs.TryGetValue(value, out var produced) ? produced
                            : batch.TryGetValue(value, out var given) ? given
                            : throw new InvalidOperationException($"Activation sparsity: the value '{value}' was not produced.");
                        if (x is not Tensor<float> xf) throw new InvalidOperationException($"Activation sparsity: '{value}' is {DataTypes.Name(x.ElementType)}, not float32.");
                        reservoir.Add(xf.Span);
                    }
                }
                finally
                {
                    foreach (var output in outputs.Values) output.Dispose();
                }
            }
        }

        var thresholds = new Dictionary<string, float>();
        foreach (var target in targets)
            thresholds[target.WeightName] = samples[target.Node.Inputs[0]].Quantile(sparsity);
        return thresholds;
    }

    /// <summary>The fraction of <paramref name="values"/> at or under <paramref name="threshold"/> in magnitude (what a threshold zeroes).</summary>
    public static double ZeroedFraction(ReadOnlySpan<float> values, float threshold)
    {
        if (values.IsEmpty) return 0;
        var zeroed = 0L;
        foreach (var v in values) if (!(MathF.Abs(v) > threshold)) zeroed++;
        return (double)zeroed / values.Length;
    }

    /// <summary>A uniform sample of magnitudes (Algorithm R) with a fixed seed.</summary>
    private sealed class Reservoir(int capacity, long seed)
    {
        private readonly List<float> _values = new();
        private readonly Random _random = new(unchecked((int)(seed * 7919 + 17)));
        private long _seen;

        public void Add(ReadOnlySpan<float> values)
        {
            foreach (var v in values)
            {
                var magnitude = MathF.Abs(v);
                if (_values.Count < capacity) _values.Add(magnitude);
                else
                {
                    var slot = _random.NextInt64(_seen + 1);
                    if (slot < capacity) _values[(int)slot] = magnitude;
                }
                _seen++;
            }
        }

        /// <summary>The smallest sampled magnitude t with at least <paramref name="fraction"/> of the sample at or under it; 0 for fraction 0.</summary>
        public float Quantile(double fraction)
        {
            if (_values.Count == 0) throw new InvalidOperationException("Activation sparsity: no calibration values were seen (no batches?).");
            if (fraction <= 0) return 0f;
            var sorted = _values.ToArray();
            Array.Sort(sorted);
            var index = (int)Math.Ceiling(fraction * sorted.Length) - 1;
            return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
        }
    }
}
