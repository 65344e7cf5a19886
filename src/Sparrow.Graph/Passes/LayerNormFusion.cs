using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// Fuses the decomposed layer normalisation that exporters emit for the last axis,
/// <code>
///   m = ReduceMean(x); d = x - m; v = ReduceMean(Pow(d, 2) or d·d); y = d / Sqrt(v + eps); y·gamma + beta
/// </code>
/// into one ONNX <c>LayerNormalization</c> (axis -1, epsilon eps). Strict: both reductions must be over the
/// last axis only with keepdims, every intermediate must have no reader outside the pattern, eps and the
/// exponent must be scalar constants, and gamma/beta 1-D float constants. The scale and shift are optional in
/// the pattern; when they are absent and the last dimension is known, ones/zeros take their place.
/// </summary>
/// <remarks>
/// The fused node is an ONNX opset-17 operator even in graphs of an older opset: the graph is the runtime's
/// private copy, not a file written back.
/// </remarks>
internal static class LayerNormFusion
{
    /// <summary>Fuses every match in the graph; returns how many were fused.</summary>
    public static int Run(Model model) => Run(new FusionGraph(model, ShapeInference.Infer(model)));

    internal static int Run(FusionGraph graph)
    {
        var fused = 0;
        foreach (var node in graph.Graph.Nodes.ToArray())
            if (node is { OpType: "ReduceMean", Domain: "" } && TryFuse(graph, node)) fused++;
        return fused;
    }

    private static bool TryFuse(FusionGraph graph, Node meanNode)
    {
        if (meanNode.Inputs.Count == 0 || meanNode.Outputs.Count != 1) return false;
        var x = meanNode.Inputs[0];
        if (graph.ElementType(x) is not (DataType.Float32 or DataType.Undefined)) return false;
        if (!ReducesLastAxisOnly(graph, meanNode, x)) return false;
        var mean = meanNode.Outputs[0];

        // d = x - mean
        if (Single(graph, mean) is not { OpType: "Sub", Domain: "" } sub || sub.Inputs.Count != 2 || sub.Inputs[0] != x || sub.Inputs[1] != mean
            || !graph.OnlyFeeds(mean, sub))
            return false;
        var d = sub.Outputs[0];

        // d is read twice for the square (Pow(d, 2) or Mul(d, d)) ... or once by Pow, and once by the Div.
        var readers = graph.Readers(d);
        var div = readers.FirstOrDefault(r => r is { OpType: "Div", Domain: "" } && r.Inputs.Count == 2 && r.Inputs[0] == d && r.Inputs[1] != d);
        if (div is null) return false;
        var square = readers.FirstOrDefault(r => !ReferenceEquals(r, div));
        if (square is null || graph.IsGraphOutput(d)) return false;
        if (square is { OpType: "Pow", Domain: "" } && square.Inputs.Count == 2 && square.Inputs[0] == d)
        {
            if (!graph.TryScalar(square.Inputs[1], d, out var exponent) || exponent != 2f || readers.Count != 2) return false;
        }
        else if (square is { OpType: "Mul", Domain: "" } && square.Inputs.Count == 2 && square.Inputs[0] == d && square.Inputs[1] == d)
        {
            if (readers.Count != 3) return false;
        }
        else return false;
        if (readers.Any(r => !ReferenceEquals(r, div) && !ReferenceEquals(r, square))) return false;
        var squared = square.Outputs[0];

        // v = ReduceMean(squared) over the same axis
        if (Single(graph, squared) is not { OpType: "ReduceMean", Domain: "" } varianceNode || varianceNode.Inputs[0] != squared
            || !graph.OnlyFeeds(squared, varianceNode, varianceNode.Inputs.Count(i => i == squared))
            || !ReducesLastAxisOnly(graph, varianceNode, squared))
            return false;
        var variance = varianceNode.Outputs[0];

        // v + eps
        if (Single(graph, variance) is not { OpType: "Add", Domain: "" } addEps || addEps.Inputs.Count != 2 || !graph.OnlyFeeds(variance, addEps))
            return false;
        var epsName = addEps.Inputs[0] == variance ? addEps.Inputs[1] : addEps.Inputs[0];
        if (!graph.TryScalar(epsName, variance, out var epsilon) || !(epsilon >= 0) || float.IsInfinity(epsilon)) return false;

        // Sqrt, then d / sqrt
        if (Single(graph, addEps.Outputs[0]) is not { OpType: "Sqrt", Domain: "" } sqrt || !graph.OnlyFeeds(addEps.Outputs[0], sqrt)) return false;
        if (div.Inputs[1] != sqrt.Outputs[0] || !graph.OnlyFeeds(sqrt.Outputs[0], div)) return false;
        var matched = new List<Node> { meanNode, sub, square, varianceNode, addEps, sqrt, div };
        var normalized = div.Outputs[0];
        var lastDim = graph.Shape(x) is { Count: > 0 } shape ? shape[^1].Value : null;

        // Optional scale and shift.
        string? scale = null, bias = null;
        var output = normalized;
        if (Single(graph, normalized) is { OpType: "Mul", Domain: "" } mul && mul.Inputs.Count == 2 && graph.OnlyFeeds(normalized, mul)
            && IsVector(graph, Other(mul, normalized), lastDim))
        {
            scale = Other(mul, normalized);
            matched.Add(mul);
            output = mul.Outputs[0];
            if (Single(graph, output) is { OpType: "Add", Domain: "" } add && add.Inputs.Count == 2 && graph.OnlyFeeds(output, add)
                && IsVector(graph, Other(add, output), lastDim)
                && graph.Constant(Other(add, output))!.Length == graph.Constant(scale)!.Length)
            {
                bias = Other(add, output);
                matched.Add(add);
                output = add.Outputs[0];
            }
        }
        if (scale is null)
        {
            // LayerNormalization needs a scale; without a known width there is nothing to make it from.
            if (lastDim is not { } width || width <= 0 || width > int.MaxValue) return false;
            scale = NewInitializer(graph, normalized + "_ones", Enumerable.Repeat(1f, (int)width).ToArray());
        }

        var inputs = bias is null ? new[] { x, scale } : new[] { x, scale, bias };
        var fused = new Node("LayerNormalization", inputs, new[] { output }, graph.UniqueNodeName($"LayerNormalization_{output}"));
        fused.SetAttribute(NodeAttribute.Int("axis", -1));
        fused.SetAttribute(NodeAttribute.Float("epsilon", epsilon));
        graph.Replace(matched, fused);
        return true;
    }

    private static Node? Single(FusionGraph graph, string value)
    {
        var readers = graph.Readers(value);
        return readers.Count > 0 && readers.All(r => ReferenceEquals(r, readers[0])) ? readers[0] : null;
    }

    private static string Other(Node binary, string operand) => binary.Inputs[0] == operand ? binary.Inputs[1] : binary.Inputs[0];

    /// <summary>A 1-D float constant of more than one element (or exactly the known width), so that it broadcasts only over the last axis.</summary>
    private static bool IsVector(FusionGraph graph, string name, long? width) =>
        graph.Constant(name) is Tensor<float> { Rank: 1 } t && (width is { } w ? t.Length == w : t.Length > 1);

    /// <summary>ReduceMean with keepdims over exactly the last axis, axes given as attribute (opset &lt; 18) or constant input.</summary>
    private static bool ReducesLastAxisOnly(FusionGraph graph, Node reduce, string input)
    {
        if (reduce.GetInt("keepdims", 1) != 1 || reduce.Outputs.Count != 1) return false;
        long[]? axes;
        if (reduce.Inputs.Count >= 2 && reduce.Inputs[1].Length > 0)
        {
            if (graph.Constant(reduce.Inputs[1]) is not Tensor<long> t) return false;
            axes = t.ToArray();
        }
        else
        {
            axes = reduce.GetInts("axes");
        }
        if (axes is not { Length: 1 }) return false;
        if (axes[0] == -1) return true;
        return graph.Rank(input) is { } rank && axes[0] == rank - 1;
    }

    private static string NewInitializer(FusionGraph graph, string stem, float[] values)
    {
        var name = stem;
        for (var i = 1; graph.Graph.Initializers.ContainsKey(name) || graph.Producer(name) is not null; i++) name = $"{stem}_{i}";
        graph.Graph.Initializers[name] = Tensor<float>.FromArray(values, values.Length);
        return name;
    }
}
