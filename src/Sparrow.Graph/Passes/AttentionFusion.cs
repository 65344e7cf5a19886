using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// Fuses the scaled dot-product attention that BERT-style exporters spell out into one
/// <c>ai.sparrow:Attention</c> node, so that the [batch, heads, seq, seq] scores never leave the cache and
/// the head transposes are never materialised:
/// <code>
///   q' = Transpose(q, perm=[0,2,1,3])   k' = Transpose(k, perm=[0,2,3,1])   v' = Transpose(v, perm=[0,2,1,3])
///   s  = MatMul(q', k')  [then Div(s, c) or Mul(s, c) with c a float scalar constant]  [then Add(s, mask)]
///   p  = Softmax(s, last axis)
///   o  = Transpose(MatMul(p, v'), perm=[0,2,1,3])
/// </code>
/// becomes Attention(q, k, v, mask) → o, with q, k, v in [batch, seq, heads, head size] as the exporters'
/// Reshape leaves them. Every intermediate must have no reader outside the pattern; the mask must be float32
/// of known rank at most 4 (so that it cannot widen the scores' rank).
/// </summary>
public static class AttentionFusion
{
    private static readonly long[] HeadsFirst = { 0, 2, 1, 3 };
    private static readonly long[] KeysTransposed = { 0, 2, 3, 1 };

    /// <summary>Fuses every match in the graph; returns how many were fused.</summary>
    public static int Run(Model model) => Run(new FusionGraph(model, ShapeInference.Infer(model)));

    internal static int Run(FusionGraph graph)
    {
        var fused = 0;
        foreach (var node in graph.Graph.Nodes.ToArray())
            if (node is { OpType: "Softmax", Domain: "" } && TryFuse(graph, node)) fused++;
        return fused;
    }

    private static bool TryFuse(FusionGraph graph, Node softmax)
    {
        if (softmax.Inputs.Count != 1 || softmax.Outputs.Count != 1) return false;
        // Before opset 13 Softmax flattens from 'axis' on (default 1); on rank 4 only axis 3 is the last axis alone.
        var axis = softmax.GetInt("axis", graph.Opset < 13 ? 1 : -1);
        if (axis is not (-1 or 3)) return false;
        var matched = new List<Node> { softmax };

        // Walk up from the softmax: optional mask Add, optional scale, then the scores MatMul.
        var value = softmax.Inputs[0];
        var mask = "";
        if (graph.Producer(value) is { OpType: "Add", Domain: "" } add && add.Inputs.Count == 2 && graph.OnlyFeeds(value, softmax))
        {
            var scoresSide = IsScoreChain(graph, add.Inputs[0], add) ? 0 : IsScoreChain(graph, add.Inputs[1], add) ? 1 : -1;
            if (scoresSide < 0) return false;
            mask = add.Inputs[1 - scoresSide];
            if (mask == add.Inputs[scoresSide]) return false;
            if (graph.ElementType(mask) is not (DataType.Float32 or DataType.Undefined) || graph.Rank(mask) is not (>= 0 and <= 4)) return false;
            matched.Add(add);
            value = add.Inputs[scoresSide];
        }
        NodeAttribute? scale = null;
        if (graph.Producer(value) is { OpType: "Div" or "Mul", Domain: "" } scaleNode && scaleNode.Inputs.Count == 2 && graph.OnlyFeeds(value, matched[^1]))
        {
            string scores;
            if (scaleNode.OpType == "Div" && graph.TryScalar(scaleNode.Inputs[1], scaleNode.Inputs[0], out var divisor))
            {
                scores = scaleNode.Inputs[0];
                scale = NodeAttribute.Float(SparrowOps.DivisorAttribute, divisor);
            }
            else if (scaleNode.OpType == "Mul" && graph.TryScalar(scaleNode.Inputs[1], scaleNode.Inputs[0], out var factor))
            {
                scores = scaleNode.Inputs[0];
                scale = NodeAttribute.Float(SparrowOps.ScaleAttribute, factor);
            }
            else if (scaleNode.OpType == "Mul" && graph.TryScalar(scaleNode.Inputs[0], scaleNode.Inputs[1], out factor))
            {
                scores = scaleNode.Inputs[1];
                scale = NodeAttribute.Float(SparrowOps.ScaleAttribute, factor);
            }
            else return false;
            matched.Add(scaleNode);
            value = scores;
        }
        if (graph.Producer(value) is not { OpType: "MatMul", Domain: "" } scoresMatMul || scoresMatMul.Inputs.Count != 2
            || !graph.OnlyFeeds(value, matched[^1]))
            return false;
        matched.Add(scoresMatMul);
        if (!TryTranspose(graph, scoresMatMul.Inputs[0], scoresMatMul, HeadsFirst, out var qTranspose, out var q)
            || !TryTranspose(graph, scoresMatMul.Inputs[1], scoresMatMul, KeysTransposed, out var kTranspose, out var k))
            return false;
        matched.Add(qTranspose);
        matched.Add(kTranspose);
        if (graph.ElementType(q) is not (DataType.Float32 or DataType.Undefined)) return false;

        // Walk down: MatMul(p, v') and the transpose back to [batch, seq, heads, head size].
        var probabilities = softmax.Outputs[0];
        if (graph.Readers(probabilities) is not [{ OpType: "MatMul", Domain: "" } valueMatMul] || valueMatMul.Inputs.Count != 2
            || valueMatMul.Inputs[0] != probabilities || !graph.OnlyFeeds(probabilities, valueMatMul))
            return false;
        matched.Add(valueMatMul);
        if (!TryTranspose(graph, valueMatMul.Inputs[1], valueMatMul, HeadsFirst, out var vTranspose, out var v)) return false;
        matched.Add(vTranspose);
        var context = valueMatMul.Outputs[0];
        if (graph.Readers(context) is not [{ OpType: "Transpose", Domain: "" } outTranspose] || !graph.OnlyFeeds(context, outTranspose)
            || !HasPermutation(outTranspose, HeadsFirst))
            return false;
        matched.Add(outTranspose);

        var output = outTranspose.Outputs[0];
        var fused = new Node(SparrowOps.Attention, new[] { q, k, v, mask }, new[] { output }, graph.UniqueNodeName($"Attention_{output}"), SparrowOps.Domain);
        if (scale is not null) fused.SetAttribute(scale);
        graph.Replace(matched, fused);
        return true;
    }

    /// <summary>Whether a value comes from the scores MatMul (directly or through a scale) and only feeds <paramref name="reader"/>.</summary>
    private static bool IsScoreChain(FusionGraph graph, string value, Node reader) =>
        graph.OnlyFeeds(value, reader) && graph.Producer(value) is { Domain: "" } producer
        && (producer.OpType == "MatMul"
            || (producer.OpType is "Div" or "Mul" && producer.Inputs.Count == 2
                && producer.Inputs.Any(i => graph.Producer(i) is { OpType: "MatMul", Domain: "" })));

    /// <summary>A Transpose with the given permutation that only feeds <paramref name="reader"/>; returns its input.</summary>
    private static bool TryTranspose(FusionGraph graph, string value, Node reader, long[] permutation, out Node transpose, out string input)
    {
        transpose = null!;
        input = "";
        if (graph.Producer(value) is not { OpType: "Transpose", Domain: "" } node || node.Inputs.Count != 1 || node.Outputs.Count != 1
            || !graph.OnlyFeeds(value, reader) || !HasPermutation(node, permutation))
            return false;
        transpose = node;
        input = node.Inputs[0];
        return true;
    }

    private static bool HasPermutation(Node transpose, long[] permutation) =>
        transpose.Inputs.Count == 1 && transpose.Outputs.Count == 1 && transpose.GetInts("perm") is { } perm && perm.AsSpan().SequenceEqual(permutation);
}
