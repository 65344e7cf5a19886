using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Structured;

/// <summary>
/// Physically removes heads, feed-forward neurons and layers from a transformer encoder: the matrices shrink, the
/// head counts written in the reshape shapes follow, removed layers are bypassed and their nodes and weights
/// deleted. The result is ordinary ONNX that any runtime loads. Works on a copy; the model passed in is not changed.
/// </summary>
public static class StructuredRemoval
{
    /// <summary>A copy of <paramref name="model"/> with what <paramref name="plan"/> lists removed.</summary>
    /// <exception cref="PruningRequestException">The plan names a layer or head the model lacks, lists a layer twice or removes every layer.</exception>
    public static Model Apply(Model model, StructuredPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var pruned = model.Clone();
        var graph = pruned.Graph;
        var structure = EncoderStructure.Find(graph);
        Check(structure, plan);
        if (plan.IsEmpty) return pruned;

        var removedLayers = plan.Layers.ToHashSet();
        foreach (var layer in structure.Layers)
        {
            if (removedLayers.Contains(layer.Index)) continue;
            if (plan.Heads.TryGetValue(layer.Index, out var heads) && heads.Count > 0) RemoveHeads(graph, layer.Attention, heads);
            if (plan.Neurons.TryGetValue(layer.Index, out var neurons) && neurons.Count > 0) RemoveNeurons(graph, layer.FeedForward, neurons);
        }
        if (removedLayers.Count > 0) BypassLayers(graph, structure, removedLayers);
        RemoveDeadNodes(graph);
        // Shapes recorded for intermediate values may no longer hold; runtimes infer them again.
        graph.ValueInfos.Clear();
        return pruned;
    }

    private static void Check(EncoderStructure structure, StructuredPlan plan)
    {
        var count = structure.Layers.Count;
        void CheckLayer(int index, string what)
        {
            if (index < 0 || index >= count)
                throw new PruningRequestException($"Structured pruning: {what} names layer {index}; the model has layers 0 to {count - 1}.");
        }
        foreach (var l in plan.Layers) CheckLayer(l, "the layers to remove");
        if (plan.Layers.Distinct().Count() != plan.Layers.Count)
            throw new PruningRequestException("Structured pruning: a layer to remove is listed twice.");
        if (plan.Layers.Count >= count)
            throw new PruningRequestException($"Structured pruning: cannot remove all {count} layers; keep at least one.");
        foreach (var (l, heads) in plan.Heads)
        {
            CheckLayer(l, "the heads to remove");
            CheckIndices(heads, structure.Layers[l].Attention.Heads, $"layer {l}'s heads");
        }
        foreach (var (l, neurons) in plan.Neurons)
        {
            CheckLayer(l, "the neurons to remove");
            CheckIndices(neurons, structure.Layers[l].FeedForward.Intermediate, $"layer {l}'s feed-forward neurons");
        }
    }

    private static void CheckIndices(IReadOnlyList<int> removed, int available, string what)
    {
        if (removed.Any(i => i < 0 || i >= available))
            throw new PruningRequestException($"Structured pruning: {what} are numbered 0 to {available - 1}; got {removed.First(i => i < 0 || i >= available)}.");
        if (removed.Distinct().Count() != removed.Count)
            throw new PruningRequestException($"Structured pruning: {what} to remove list one twice.");
        if (removed.Count >= available)
            throw new PruningRequestException($"Structured pruning: cannot remove all {available} of {what}; keep at least one.");
    }

    private static void RemoveHeads(ModelGraph graph, AttentionBlock attention, IReadOnlyList<int> removed)
    {
        var gone = removed.ToHashSet();
        var kept = Enumerable.Range(0, attention.Heads).Where(h => !gone.Contains(h)).ToArray();
        var channels = kept.SelectMany(h => Enumerable.Range(h * attention.HeadSize, attention.HeadSize)).ToArray();
        foreach (var p in new[] { attention.Query, attention.Key, attention.Value })
        {
            graph.Initializers[p.WeightName] = KeepColumns(Float(graph, p.WeightName), channels);
            if (p.BiasName is { } b) graph.Initializers[b] = KeepEntries(Float(graph, b), channels);
        }
        // The output projection reads the merged heads: its input rows are the heads' channels.
        graph.Initializers[attention.Output.WeightName] = KeepRows(Float(graph, attention.Output.WeightName), channels);

        var producers = graph.ProducerMap();
        foreach (var slot in attention.ShapeSlots)
        {
            var old = slot.Node.Inputs[slot.InputIndex];
            var values = StructureConstants.Ints(graph, producers, old)
                ?? throw new InvalidOperationException($"The shape constant '{old}' of {slot.Node.DisplayName} is gone.");
            var shape = StructureConstants.Tensor(graph, producers, old)!.CopyShape();
            values[slot.Element] = slot.TimesHeadSize ? (long)kept.Length * attention.HeadSize : kept.Length;
            // A new constant for this node alone: the old one may be shared with layers that keep their heads.
            var name = UniqueName(graph, $"{old}_heads{kept.Length}");
            graph.Initializers[name] = Tensor<long>.FromArray(values, shape);
            slot.Node.Inputs[slot.InputIndex] = name;
        }
    }

    private static void RemoveNeurons(ModelGraph graph, FeedForwardBlock feedForward, IReadOnlyList<int> removed)
    {
        var gone = removed.ToHashSet();
        var kept = Enumerable.Range(0, feedForward.Intermediate).Where(n => !gone.Contains(n)).ToArray();
        graph.Initializers[feedForward.Up.WeightName] = KeepColumns(Float(graph, feedForward.Up.WeightName), kept);
        if (feedForward.Up.BiasName is { } b) graph.Initializers[b] = KeepEntries(Float(graph, b), kept);
        graph.Initializers[feedForward.Down.WeightName] = KeepRows(Float(graph, feedForward.Down.WeightName), kept);
    }

    /// <summary>Every reader of a removed layer's output reads its input instead (through a chain of removed layers too).</summary>
    private static void BypassLayers(ModelGraph graph, EncoderStructure structure, HashSet<int> removed)
    {
        var replacement = new Dictionary<string, string>();
        string Resolve(string value) => replacement.TryGetValue(value, out var r) ? Resolve(r) : value;
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var layer in structure.Layers.Where(l => removed.Contains(l.Index)))
        {
            var input = Resolve(layer.Input);
            replacement[layer.Output] = input;
            foreach (var node in graph.Nodes)
                for (var i = 0; i < node.Inputs.Count; i++)
                    if (node.Inputs[i] == layer.Output) node.Inputs[i] = input;
            if (graphOutputs.Contains(layer.Output))
            {
                // A graph output keeps its name: an Identity gives it the layer's input, placed where its producer was.
                var producer = graph.Nodes.FindIndex(n => n.Outputs.Contains(layer.Output));
                graph.Nodes[producer].Outputs[graph.Nodes[producer].Outputs.IndexOf(layer.Output)] = UniqueName(graph, layer.Output + "_removed");
                graph.Nodes.Insert(producer + 1, new Node("Identity", [input], [layer.Output], $"sparrow_bypass_layer{layer.Index}"));
            }
        }
    }

    /// <summary>Deletes the nodes nothing reads any more, then the initializers no node reads.</summary>
    internal static void RemoveDeadNodes(ModelGraph graph)
    {
        var live = graph.Outputs.Select(o => o.Name).ToHashSet();
        var keep = new bool[graph.Nodes.Count];
        for (var i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (!node.Outputs.Any(live.Contains)) continue;
            keep[i] = true;
            foreach (var input in node.Inputs) if (input.Length > 0) live.Add(input);
        }
        var nodes = graph.Nodes.Where((_, i) => keep[i]).ToArray();
        graph.Nodes.Clear();
        graph.Nodes.AddRange(nodes);
        foreach (var name in graph.Initializers.Keys.Where(n => !live.Contains(n)).ToArray())
        {
            graph.Initializers.Remove(name);
            graph.Inputs.RemoveAll(i => i.Name == name);
        }
    }

    private static string UniqueName(ModelGraph graph, string wanted)
    {
        var taken = graph.Initializers.Keys.Concat(graph.Nodes.SelectMany(n => n.Outputs)).Concat(graph.Inputs.Select(i => i.Name)).ToHashSet();
        var name = wanted;
        for (var k = 1; taken.Contains(name); k++) name = $"{wanted}_{k}";
        return name;
    }

    private static Tensor<float> Float(ModelGraph graph, string name) => (Tensor<float>)graph.Initializers[name];

    internal static Tensor<float> KeepColumns(Tensor<float> matrix, int[] columns)
    {
        int rows = matrix.Shape[0], width = matrix.Shape[1];
        var source = matrix.Span;
        var result = new float[rows * columns.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns.Length; c++) result[r * columns.Length + c] = source[r * width + columns[c]];
        return Tensor<float>.FromArray(result, rows, columns.Length);
    }

    internal static Tensor<float> KeepRows(Tensor<float> matrix, int[] rows)
    {
        var width = matrix.Shape[1];
        var source = matrix.Span;
        var result = new float[rows.Length * width];
        for (var r = 0; r < rows.Length; r++) source.Slice(rows[r] * width, width).CopyTo(result.AsSpan(r * width, width));
        return Tensor<float>.FromArray(result, rows.Length, width);
    }

    internal static Tensor<float> KeepEntries(Tensor<float> vector, int[] entries)
    {
        var source = vector.Span;
        var result = new float[entries.Length];
        for (var i = 0; i < entries.Length; i++) result[i] = source[entries[i]];
        return Tensor<float>.FromArray(result, entries.Length);
    }
}
