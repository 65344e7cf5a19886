using Sparrow.Data.Embeddings;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Structured;

/// <summary>
/// Importance of heads, feed-forward neurons and layers, measured by running the model through Sparrow's runtime on
/// calibration batches (input_ids, attention_mask, ...). Every score is "how much is lost without it": the larger,
/// the more important.
/// </summary>
internal static class StructuredImportance
{
    private const string MaskInputPrefix = "sparrow.head_mask.";

    /// <summary>
    /// Head h of layer l: the mean over calibration sentences of 1 − cosine between the model's mean-pooled final
    /// hidden states with that head's context zeroed and without. One run per head (plus one reference run).
    /// </summary>
    /// <param name="progress">Told (layers done, layers × batches) as the heads are scored, for a progress bar.</param>
    public static float[][] Heads(Model model, IReadOnlyList<TokenBatch> batches, int threads = 0, Action<int, int>? progress = null) =>
        Heads(model, batches, threads, startAtLayer: true, progress);

    /// <param name="startAtLayer">
    /// Run a head's layer and those after it only, from the layer's input captured in the reference run (the layers
    /// before it see no mask, so their output is the reference's): about half the work. False runs the whole model.
    /// </param>
    internal static float[][] Heads(Model model, IReadOnlyList<TokenBatch> batches, int threads, bool startAtLayer, Action<int, int>? progress = null)
    {
        var structure = EncoderStructure.Find(model.Graph);
        var layers = structure.Layers;
        var final = layers[^1].Output;
        var (masked, masks) = WithHeadMasks(model);
        masked.Graph.Outputs.RemoveAll(o => o.Name != final);
        masked = Calibrator.BuildProbe(masked, [final]);
        var layerInputs = startAtLayer ? layers.Skip(1).Select(l => l.Input).ToArray() : [];
        var inputNames = model.Graph.RequiredInputs.Select(i => i.Name).ToArray();
        var scores = layers.Select(l => new float[l.Attention.Heads]).ToArray();
        var sentences = 0;
        var done = 0;
        using var full = Session(Calibrator.BuildProbe(masked, layerInputs), threads);
        var partial = layers.Select(l => startAtLayer && l.Index > 0 && StartingAt(masked, l.Input) is { } sub ? Session(sub, threads) : null).ToArray();
        try
        {
            foreach (var batch in batches)
            {
                var inputs = batch.ToInputs(inputNames).ToDictionary();
                var ones = layers.Select(l => Ones(l.Attention.Heads * l.Attention.HeadSize)).ToArray();
                for (var l = 0; l < ones.Length; l++) inputs[masks[l]] = ones[l];
                var outputs = full.Run(inputs);
                try
                {
                    var reference = EmbeddingMath.MeanPool(HiddenStates(outputs, final), batch.AttentionMask);
                    for (var l = 0; l < layers.Count; l++)
                    {
                        var attention = layers[l].Attention;
                        var session = partial[l] ?? full;
                        var layerRun = inputs;
                        if (partial[l] is not null) layerRun = new Dictionary<string, Tensor>(inputs) { [layers[l].Input] = outputs[layers[l].Input] };
                        var mask = ones[l].Span;
                        for (var h = 0; h < attention.Heads; h++)
                        {
                            mask.Slice(h * attention.HeadSize, attention.HeadSize).Clear();
                            var pooled = Pooled(session, layerRun, final, batch.AttentionMask);
                            mask.Slice(h * attention.HeadSize, attention.HeadSize).Fill(1);
                            for (var s = 0; s < pooled.Length; s++) scores[l][h] += 1 - EmbeddingMath.CosineSimilarity(reference[s], pooled[s]);
                        }
                        progress?.Invoke(done * layers.Count + l + 1, batches.Count * layers.Count);
                    }
                }
                finally
                {
                    foreach (var t in outputs.Values) t.Dispose();
                }
                sentences += batch.BatchSize;
                done++;
            }
        }
        finally
        {
            foreach (var session in partial) session?.Dispose();
        }
        foreach (var layer in scores)
            for (var h = 0; h < layer.Length; h++) layer[h] /= Math.Max(sentences, 1);
        return scores;
    }

    /// <summary>The model from <paramref name="layerInput"/> on: that value becomes a graph input, what only fed it is dropped; null when it cannot be cut there.</summary>
    private static Model? StartingAt(Model model, string layerInput)
    {
        var sub = model.Clone();
        var graph = sub.Graph;
        var producer = graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(layerInput));
        if (producer is null || producer.Outputs.Count(o => o.Length > 0) != 1) return null;
        graph.Nodes.Remove(producer);
        graph.Inputs.Add(new ValueInfo(layerInput, DataType.Float32, null));
        StructuredRemoval.RemoveDeadNodes(graph);
        return sub;
    }

    private static Tensor<float> HiddenStates(IReadOnlyDictionary<string, Tensor> outputs, string output) =>
        outputs.TryGetValue(output, out var hidden) && hidden is Tensor<float> { Rank: 3 } states ? states
            : throw new InvalidOperationException($"Structured pruning: the encoder's output '{output}' is not float32 [batch, seq, hidden].");

    /// <summary>
    /// A copy of the model in which every layer's merged head context is multiplied by a graph input
    /// <c>sparrow.head_mask.L</c> (float [heads × head size]) before the output projection: 1 keeps a channel,
    /// 0 silences it. Returns the copy and the mask inputs' names by layer.
    /// </summary>
    public static (Model Probe, string[] MaskInputs) WithHeadMasks(Model model)
    {
        var probe = model.Clone();
        var graph = probe.Graph;
        var structure = EncoderStructure.Find(graph);
        var names = new string[structure.Layers.Count];
        foreach (var layer in structure.Layers)
        {
            var attention = layer.Attention;
            var mask = names[layer.Index] = MaskInputPrefix + layer.Index;
            var masked = $"sparrow.masked_context.{layer.Index}";
            graph.Inputs.Add(new ValueInfo(mask, DataType.Float32, [new Dimension(attention.Heads * attention.HeadSize, null)]));
            var matMul = attention.Output.MatMul;
            graph.Nodes.Insert(graph.Nodes.IndexOf(matMul), new Node("Mul", [matMul.Inputs[0], mask], [masked], $"sparrow_head_mask_{layer.Index}"));
            matMul.Inputs[0] = masked;
        }
        return (probe, names);
    }

    /// <summary>
    /// Feed-forward neuron j of each layer: mean |activation after GELU| over calibration tokens × the L2 norm of the
    /// down projection's row j (what the neuron writes into the hidden state), the first-order size of its contribution.
    /// Layer l: the mean over tokens of 1 − cosine(layer input, layer output); a layer that barely turns its input
    /// changes least when removed. Padding tokens are skipped.
    /// </summary>
    /// <param name="progress">Told (batches done, batches), for a progress bar.</param>
    public static (float[][] Neurons, double[] Layers) Activations(Model model, IReadOnlyList<TokenBatch> batches, int threads = 0, Action<int, int>? progress = null)
    {
        var structure = EncoderStructure.Find(model.Graph);
        var layers = structure.Layers;
        var activations = layers.Select(l => l.FeedForward.Down.MatMul.Inputs[0]).ToArray();
        var probe = Calibrator.BuildProbe(model, layers.SelectMany(l => new[] { l.Input, l.Output }).Concat(activations).Distinct());
        var inputNames = model.Graph.RequiredInputs.Select(i => i.Name).ToArray();
        var absSums = layers.Select(l => new double[l.FeedForward.Intermediate]).ToArray();
        var turn = new double[layers.Count];
        long tokens = 0;
        var done = 0;
        using var session = Session(probe, threads);
        foreach (var batch in batches)
        {
            var outputs = session.Run(batch.ToInputs(inputNames));
            try
            {
                var flags = batch.AttentionMask.Span;
                for (var l = 0; l < layers.Count; l++)
                {
                    var input = Float(outputs, layers[l].Input);
                    var output = Float(outputs, layers[l].Output);
                    var activation = Float(outputs, activations[l]);
                    int hidden = structure.HiddenSize, width = layers[l].FeedForward.Intermediate;
                    for (var t = 0; t < flags.Length; t++)
                    {
                        if (flags[t] == 0) continue;
                        turn[l] += 1 - EmbeddingMath.CosineSimilarity(input.Slice(t * hidden, hidden), output.Slice(t * hidden, hidden));
                        var row = activation.Slice(t * width, width);
                        var sums = absSums[l];
                        for (var j = 0; j < width; j++) sums[j] += Math.Abs(row[j]);
                    }
                }
                foreach (var f in flags) if (f != 0) tokens++;
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
            progress?.Invoke(++done, batches.Count);
        }
        var count = Math.Max(tokens, 1);
        var neurons = new float[layers.Count][];
        for (var l = 0; l < layers.Count; l++)
        {
            var down = (Tensor<float>)model.Graph.Initializers[layers[l].FeedForward.Down.WeightName];
            var hidden = down.Shape[1];
            neurons[l] = new float[absSums[l].Length];
            for (var j = 0; j < neurons[l].Length; j++)
            {
                var rowNorm = System.Numerics.Tensors.TensorPrimitives.Norm((ReadOnlySpan<float>)down.Span.Slice(j * hidden, hidden));
                neurons[l][j] = (float)(absSums[l][j] / count * rowNorm);
            }
        }
        return (neurons, turn.Select(t => t / count).ToArray());
    }

    private static ReadOnlySpan<float> Float(IReadOnlyDictionary<string, Tensor> outputs, string name) =>
        outputs.TryGetValue(name, out var t) && t is Tensor<float> f ? f.Span
            : throw new InvalidOperationException($"Structured pruning: calibration did not produce '{name}' as float32.");

    private static Tensor<float> Ones(int length)
    {
        var values = new float[length];
        Array.Fill(values, 1f);
        return Tensor<float>.FromArray(values, length);
    }

    private static float[][] Pooled(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs, string output, Tensor<long> attentionMask)
    {
        var outputs = session.Run(inputs);
        try
        {
            return EmbeddingMath.MeanPool(HiddenStates(outputs, output), attentionMask);
        }
        finally
        {
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    // Scores come from one pass; measuring sparse kernels would cost more than it saves.
    private static InferenceSession Session(Model model, int threads) =>
        new(model, new SessionOptions { IntraOpThreads = threads, SparseKernel = "dense", UseKernelCache = false });
}
