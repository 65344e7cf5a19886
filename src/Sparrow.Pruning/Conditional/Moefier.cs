using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Structured;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Pruning.Conditional;

/// <summary>How <see cref="Moefier.Moefy"/> splits the feed-forward blocks.</summary>
public sealed class MoefySettings
{
    /// <summary>Experts per feed-forward block; the intermediate size must divide by it (1536 / 16 = 96 for MiniLM).</summary>
    public int Experts { get; set; } = 16;

    /// <summary>Experts each token runs, the same in every layer; 0: the smallest k per layer that meets <see cref="MaxRelativeError"/>.</summary>
    public int K { get; set; } = 4;

    /// <summary>
    /// With <see cref="K"/> = 0, the quality target: per layer, the largest allowed ‖y_moe − y‖² / ‖y‖² of the
    /// block's output over the calibration tokens (y the dense block's output before its down bias).
    /// </summary>
    public double MaxRelativeError { get; set; } = 0.05;

    /// <summary>Balanced k-means iterations.</summary>
    public int Iterations { get; set; } = 20;

    /// <summary>Seed of the k-means start.</summary>
    public long Seed { get; set; }

    /// <summary>Calibration tokens used per layer at most (the first ones; padding excluded).</summary>
    public int MaxTokens { get; set; } = 2048;

    /// <summary>Ridge penalty of the router regression, relative to the mean diagonal of XᵀX.</summary>
    public double RidgePenalty { get; set; } = 1e-3;

    /// <summary>Threads for the runtime and the matrix products; 0: one per core.</summary>
    public int Threads { get; set; }
}

/// <summary>One feed-forward block turned into experts, with the router's fit on the calibration tokens.</summary>
/// <param name="Layer">Encoder layer index.</param>
/// <param name="Experts">E.</param>
/// <param name="ExpertSize">Intermediate neurons per expert.</param>
/// <param name="K">Experts per token chosen for this layer.</param>
/// <param name="RelativeErrorByK">‖y_moe − y‖² / ‖y‖² on the calibration tokens for k = 1 … E (index k − 1).</param>
/// <param name="OracleRelativeErrorByK">The same when the k experts with the largest true output norm are chosen per token (what the router is fitted to predict).</param>
/// <param name="Tokens">Calibration tokens the fit used.</param>
public sealed record MoefiedLayer(int Layer, int Experts, int ExpertSize, int K, IReadOnlyList<double> RelativeErrorByK,
    IReadOnlyList<double> OracleRelativeErrorByK, int Tokens);

/// <summary>The model with ai.sparrow:MoE nodes in place of its feed-forward blocks, and what was done per layer.</summary>
public sealed record MoefyResult(Model Model, IReadOnlyList<MoefiedLayer> Layers);

/// <summary>
/// MoEfication of a BERT-style encoder (Zhang et al. 2022): each feed-forward block's intermediate neurons are
/// split into E equal experts by balanced k-means over the rows of the first matrix (neurons whose input weights
/// are alike tend to fire together); a linear router [E, d] is fitted by ridge regression from the block's input
/// to each expert's output norm on calibration tokens; the block (MatMul up, bias, GELU, MatMul down) becomes
/// one ai.sparrow:MoE node (gate_weighted = 0: the chosen experts are summed with weight 1, so k = E is the dense
/// block exactly) followed by the down bias.
/// </summary>
public static class Moefier
{
    /// <summary>Moefies every feed-forward block of <paramref name="model"/> (not changed) calibrated on <paramref name="batches"/>.</summary>
    public static MoefyResult Moefy(Model model, MoefySettings settings, IEnumerable<IReadOnlyDictionary<string, Tensor>> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(batches);
        if (settings.Experts < 2) throw new ArgumentOutOfRangeException(nameof(settings), "Experts must be 2 or more.");
        if (settings.K < 0 || settings.K > settings.Experts) throw new ArgumentOutOfRangeException(nameof(settings), $"K must be between 0 (pick per layer) and the {settings.Experts} experts.");

        var result = model.Clone();
        var graph = result.Graph;
        // Deep copies of the weights this changes are not needed: new initializers are added, old ones dropped.
        var structure = EncoderStructure.Find(graph);
        var inputs = CaptureInputs(model, structure, batches, settings);
        var layers = new List<MoefiedLayer>();
        foreach (var layer in structure.Layers)
        {
            var ffn = layer.FeedForward;
            if (ffn.Up.BiasName is null) throw new PruningRequestException($"layer {layer.Index}: the feed-forward up projection has no bias; MoEfication expects MatMul + Add.");
            if (ffn.Intermediate % settings.Experts != 0)
                throw new PruningRequestException($"layer {layer.Index}: {ffn.Intermediate} intermediate neurons do not split into {settings.Experts} equal experts.");
            var up = Float(graph, ffn.Up.WeightName);
            var upBias = Float(graph, ffn.Up.BiasName);
            var down = Float(graph, ffn.Down.WeightName);
            var x = inputs[ffn.Up.MatMul.Inputs[0]];
            var split = Split(up.Span, upBias.Span, down.Span, structure.HiddenSize, ffn.Intermediate, x.Rows, x.Values, settings, layer.Index);

            var prefix = UniqueName(graph, $"moe{layer.Index}");
            graph.Initializers[$"{prefix}.router_weight"] = split.RouterWeight;
            graph.Initializers[$"{prefix}.router_bias"] = split.RouterBias;
            graph.Initializers[$"{prefix}.w1"] = split.W1;
            graph.Initializers[$"{prefix}.b1"] = split.B1;
            graph.Initializers[$"{prefix}.w2"] = split.W2;
            var output = ffn.Down.Output;
            var producer = graph.Nodes.FindIndex(n => n.Outputs.Contains(output));
            var moeOutput = ffn.Down.BiasName is null ? output : $"{prefix}.output";
            var moe = new Node("MoE", [ffn.Up.MatMul.Inputs[0], $"{prefix}.router_weight", $"{prefix}.router_bias", $"{prefix}.w1", $"{prefix}.b1", $"{prefix}.w2", ""],
                [moeOutput], prefix, SparrowDomain);
            moe.Attributes.Add(NodeAttribute.Int("k", split.K));
            moe.Attributes.Add(NodeAttribute.String("activation", "gelu"));
            moe.Attributes.Add(NodeAttribute.Float("capacity_factor", 0f));
            moe.Attributes.Add(NodeAttribute.Int("normalize_gates", 1));
            moe.Attributes.Add(NodeAttribute.Int("gate_weighted", 0));
            var replacement = new List<Node> { moe };
            if (ffn.Down.BiasName is { } downBias)
                replacement.Add(new Node("Add", [moeOutput, downBias], [output], $"{prefix}.bias"));
            graph.Nodes.RemoveAt(producer);
            graph.Nodes.InsertRange(producer, replacement);
            layers.Add(new MoefiedLayer(layer.Index, settings.Experts, ffn.Intermediate / settings.Experts, split.K, split.Errors, split.OracleErrors, x.Rows));
        }
        StructuredRemoval.RemoveDeadNodes(graph);
        result.OpsetImports.TryAdd(SparrowDomain, 1);
        return new MoefyResult(result, layers);
    }

    private const string SparrowDomain = "ai.sparrow";

    private sealed record Captured(int Rows, float[] Values);

    private sealed record ExpertSplit(Tensor<float> RouterWeight, Tensor<float> RouterBias, Tensor<float> W1, Tensor<float> B1, Tensor<float> W2,
        int K, double[] Errors, double[] OracleErrors);

    /// <summary>Each block's input rows on the calibration batches (padding rows left out), up to MaxTokens.</summary>
    private static Dictionary<string, Captured> CaptureInputs(Model model, EncoderStructure structure, IEnumerable<IReadOnlyDictionary<string, Tensor>> batches, MoefySettings settings)
    {
        var values = structure.Layers.Select(l => l.FeedForward.Up.MatMul.Inputs[0]).Distinct().ToList();
        var rows = values.ToDictionary(v => v, _ => new List<float>());
        var count = values.ToDictionary(v => v, _ => 0);
        var probe = Calibrator.BuildProbe(model, values);
        using var session = new InferenceSession(probe, new SessionOptions { IntraOpThreads = settings.Threads, SparseKernel = "dense", UseKernelCache = false });
        var hidden = structure.HiddenSize;
        foreach (var batch in batches)
        {
            if (values.All(v => count[v] >= settings.MaxTokens)) break;
            var outputs = session.Run(batch);
            try
            {
                batch.TryGetValue("attention_mask", out var maskTensor);
                var mask = maskTensor as Tensor<long>;
                foreach (var value in values)
                {
                    var x = (Tensor<float>)outputs[value];
                    var span = x.Span;
                    var n = x.Length / hidden;
                    for (var r = 0; r < n && count[value] < settings.MaxTokens; r++)
                    {
                        if (mask is not null && mask.Length == n && mask.Span[r] == 0) continue;
                        rows[value].AddRange(span.Slice(r * hidden, hidden));
                        count[value]++;
                    }
                }
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
        }
        if (values.Any(v => count[v] == 0)) throw new PruningRequestException("MoEfication: the calibration batches gave no tokens.");
        return values.ToDictionary(v => v, v => new Captured(count[v], rows[v].ToArray()));
    }

    /// <summary>Clusters the neurons, fits the router, measures the error for every k and builds the expert tensors.</summary>
    private static ExpertSplit Split(ReadOnlySpan<float> up, ReadOnlySpan<float> upBias, ReadOnlySpan<float> down, int d, int intermediate,
        int tokens, float[] x, MoefySettings settings, int layerIndex)
    {
        int experts = settings.Experts, h = intermediate / experts;
        // Neuron i's input weights: column i of up [d, I].
        var neurons = new float[intermediate * d];
        for (var j = 0; j < d; j++)
        for (var i = 0; i < intermediate; i++)
            neurons[i * d + j] = up[j * intermediate + i];
        var clusters = BalancedKMeans(neurons, intermediate, d, experts, settings.Iterations, settings.Seed + layerIndex);
        var order = clusters.SelectMany(c => c).ToArray(); // expert e's neurons at [e*h, (e+1)*h)

        // Up and down with the neurons in expert order.
        var upOrdered = new float[d * intermediate];
        var biasOrdered = new float[intermediate];
        var downOrdered = new float[intermediate * d];
        for (var p = 0; p < intermediate; p++)
        {
            var i = order[p];
            for (var j = 0; j < d; j++) upOrdered[j * intermediate + p] = up[j * intermediate + i];
            biasOrdered[p] = upBias[i];
            down.Slice(i * d, d).CopyTo(downOrdered.AsSpan(p * d, d));
        }

        // Activations and each expert's output on the calibration tokens.
        var threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        var activations = new float[tokens * intermediate];
        Sgemm.Multiply(tokens, intermediate, d, x, d, false, upOrdered, intermediate, false, activations, intermediate,
            columnBias: biasOrdered, activation: FusedActivation.Gelu, maxThreads: threads);
        var expertOutputs = new float[experts][];
        var norms = new double[tokens * experts];
        for (var e = 0; e < experts; e++)
        {
            var y = expertOutputs[e] = new float[tokens * d];
            Sgemm.Multiply(tokens, d, h, activations.AsSpan(e * h), intermediate, false, downOrdered.AsSpan(e * h * d), d, false, y, d, maxThreads: threads);
            for (var t = 0; t < tokens; t++)
            {
                double s = 0;
                for (var j = 0; j < d; j++) s += (double)y[t * d + j] * y[t * d + j];
                norms[t * experts + e] = Math.Sqrt(s);
            }
        }

        var (routerWeight, routerBias) = FitRouter(x, tokens, d, norms, experts, settings.RidgePenalty);
        var scores = new double[tokens * experts];
        for (var t = 0; t < tokens; t++)
        for (var e = 0; e < experts; e++)
        {
            double s = routerBias[e];
            for (var j = 0; j < d; j++) s += (double)routerWeight[e * d + j] * x[t * d + j];
            scores[t * experts + e] = s;
        }
        var errors = ErrorsByK(expertOutputs, scores, tokens, d, experts);
        var oracle = ErrorsByK(expertOutputs, norms, tokens, d, experts);
        var k = settings.K;
        if (k == 0)
        {
            k = experts;
            for (var candidate = 1; candidate <= experts; candidate++)
                if (errors[candidate - 1] <= settings.MaxRelativeError) { k = candidate; break; }
        }

        var w1 = new float[experts * h * d];
        var b1 = new float[experts * h];
        var w2 = new float[experts * d * h];
        for (var e = 0; e < experts; e++)
        for (var q = 0; q < h; q++)
        {
            var p = e * h + q;
            for (var j = 0; j < d; j++)
            {
                w1[(e * h + q) * d + j] = upOrdered[j * intermediate + p];
                w2[(e * d + j) * h + q] = downOrdered[p * d + j];
            }
            b1[e * h + q] = biasOrdered[p];
        }
        return new ExpertSplit(
            Tensor<float>.FromArray(routerWeight, experts, d), Tensor<float>.FromArray(routerBias, experts),
            Tensor<float>.FromArray(w1, experts, h, d), Tensor<float>.FromArray(b1, experts, h), Tensor<float>.FromArray(w2, experts, d, h),
            k, errors, oracle);
    }

    /// <summary>‖Σ_{top-k by score} y_e − Σ_all y_e‖² / ‖Σ_all y_e‖² over the tokens, for k = 1 … E.</summary>
    private static double[] ErrorsByK(float[][] expertOutputs, double[] scores, int tokens, int d, int experts)
    {
        var errors = new double[experts];
        double total = 0;
        var full = new double[d];
        var partial = new double[d];
        var ranking = new int[experts];
        var keys = new double[experts];
        for (var t = 0; t < tokens; t++)
        {
            Array.Clear(full);
            Array.Clear(partial);
            for (var e = 0; e < experts; e++)
            {
                var y = expertOutputs[e];
                for (var j = 0; j < d; j++) full[j] += y[t * d + j];
                ranking[e] = e;
                keys[e] = -scores[t * experts + e];
            }
            Array.Sort(keys, ranking);
            for (var j = 0; j < d; j++) total += full[j] * full[j];
            for (var k = 1; k <= experts; k++)
            {
                var y = expertOutputs[ranking[k - 1]];
                double err = 0;
                for (var j = 0; j < d; j++)
                {
                    partial[j] += y[t * d + j];
                    var diff = partial[j] - full[j];
                    err += diff * diff;
                }
                errors[k - 1] += err;
            }
        }
        for (var k = 0; k < experts; k++) errors[k] = total > 0 ? errors[k] / total : 0;
        return errors;
    }

    /// <summary>Ridge regression of each expert's output norm on [x, 1]: router weight [E, d] and bias [E].</summary>
    private static (float[] Weight, float[] Bias) FitRouter(float[] x, int tokens, int d, double[] targets, int experts, double penalty)
    {
        var n = d + 1;
        var gram = new double[n * n];
        var right = new double[n * experts];
        var row = new double[n];
        for (var t = 0; t < tokens; t++)
        {
            for (var j = 0; j < d; j++) row[j] = x[t * d + j];
            row[d] = 1;
            for (var a = 0; a < n; a++)
            {
                var ra = row[a];
                for (var b = 0; b <= a; b++) gram[a * n + b] += ra * row[b];
                for (var e = 0; e < experts; e++) right[a * experts + e] += ra * targets[t * experts + e];
            }
        }
        double trace = 0;
        for (var a = 0; a < n; a++) trace += gram[a * n + a];
        var ridge = penalty * trace / n + 1e-12;
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < a; b++) gram[b * n + a] = gram[a * n + b];
            if (a < d) gram[a * n + a] += ridge; // the bias column is not penalised
            else gram[a * n + a] += 1e-9;
        }
        var solution = CholeskySolve(gram, right, n, experts);
        var weight = new float[experts * d];
        var bias = new float[experts];
        for (var e = 0; e < experts; e++)
        {
            for (var j = 0; j < d; j++) weight[e * d + j] = (float)solution[j * experts + e];
            bias[e] = (float)solution[d * experts + e];
        }
        return (weight, bias);
    }

    /// <summary>Solves A X = B for symmetric positive definite A [n, n] and B [n, m] (both row-major; A is overwritten).</summary>
    internal static double[] CholeskySolve(double[] a, double[] b, int n, int m)
    {
        for (var j = 0; j < n; j++)
        {
            var s = a[j * n + j];
            for (var p = 0; p < j; p++) s -= a[j * n + p] * a[j * n + p];
            if (s <= 0) throw new InvalidOperationException("The router regression's matrix is not positive definite.");
            var diag = Math.Sqrt(s);
            a[j * n + j] = diag;
            for (var i = j + 1; i < n; i++)
            {
                var v = a[i * n + j];
                for (var p = 0; p < j; p++) v -= a[i * n + p] * a[j * n + p];
                a[i * n + j] = v / diag;
            }
        }
        var x = (double[])b.Clone();
        for (var c = 0; c < m; c++)
        {
            for (var i = 0; i < n; i++)
            {
                var v = x[i * m + c];
                for (var p = 0; p < i; p++) v -= a[i * n + p] * x[p * m + c];
                x[i * m + c] = v / a[i * n + i];
            }
            for (var i = n - 1; i >= 0; i--)
            {
                var v = x[i * m + c];
                for (var p = i + 1; p < n; p++) v -= a[p * n + i] * x[p * m + c];
                x[i * m + c] = v / a[i * n + i];
            }
        }
        return x;
    }

    /// <summary>
    /// Balanced k-means: <paramref name="count"/> vectors of <paramref name="dimension"/> into <paramref name="clusters"/>
    /// clusters of exactly count / clusters members. Each step assigns (vector, centroid) pairs nearest first,
    /// skipping full clusters and placed vectors, then moves each centroid to its members' mean.
    /// </summary>
    internal static int[][] BalancedKMeans(float[] vectors, int count, int dimension, int clusters, int iterations, long seed)
    {
        if (count % clusters != 0) throw new ArgumentException($"{count} vectors do not split into {clusters} equal clusters.");
        var size = count / clusters;
        var random = new Random(unchecked((int)(seed * 7919 + 1)));
        var centroids = new double[clusters * dimension];
        var start = Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take(clusters).ToArray();
        for (var c = 0; c < clusters; c++)
            for (var j = 0; j < dimension; j++) centroids[c * dimension + j] = vectors[start[c] * dimension + j];
        var assignment = new int[count];
        var distances = new double[count * clusters];
        var pairs = new int[count * clusters];
        for (var iteration = 0; iteration < Math.Max(1, iterations); iteration++)
        {
            for (var i = 0; i < count; i++)
            for (var c = 0; c < clusters; c++)
            {
                double s = 0;
                for (var j = 0; j < dimension; j++)
                {
                    var diff = vectors[i * dimension + j] - centroids[c * dimension + j];
                    s += diff * diff;
                }
                distances[i * clusters + c] = s;
                pairs[i * clusters + c] = i * clusters + c;
            }
            var keys = (double[])distances.Clone();
            Array.Sort(keys, pairs);
            var filled = new int[clusters];
            var placed = new bool[count];
            var changed = false;
            foreach (var pair in pairs)
            {
                int i = pair / clusters, c = pair % clusters;
                if (placed[i] || filled[c] == size) continue;
                placed[i] = true;
                filled[c]++;
                if (assignment[i] != c || iteration == 0) changed = true;
                assignment[i] = c;
            }
            Array.Clear(centroids);
            for (var i = 0; i < count; i++)
                for (var j = 0; j < dimension; j++) centroids[assignment[i] * dimension + j] += vectors[i * dimension + j];
            for (var k = 0; k < centroids.Length; k++) centroids[k] /= size;
            if (!changed) break;
        }
        var result = new int[clusters][];
        for (var c = 0; c < clusters; c++) result[c] = Enumerable.Range(0, count).Where(i => assignment[i] == c).ToArray();
        return result;
    }

    private static Tensor<float> Float(ModelGraph graph, string name) => (Tensor<float>)graph.Initializers[name];

    private static string UniqueName(ModelGraph graph, string wanted)
    {
        var taken = graph.Initializers.Keys.Concat(graph.Nodes.SelectMany(n => n.Outputs)).Concat(graph.Nodes.Select(n => n.Name)).ToHashSet();
        var name = wanted;
        for (var k = 1; taken.Contains(name) || taken.Contains(name + ".w1"); k++) name = $"{wanted}_{k}";
        return name;
    }
}
