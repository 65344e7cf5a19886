using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// Fuses a residual connection into the layer norm after it: LayerNormalization(Add(a, b)) over the last axis
/// becomes <c>ai.sparrow:AddLayerNormalization</c>(a, b, scale, bias), which adds each row in cache and
/// normalises it there, so the sum is never written out and read back. Strict: a and b must have the same
/// known shape (no broadcasting, every dimension a number or a named symbol), the sum must have no other
/// reader, and the LayerNormalization must normalise the last axis alone and have one output.
/// </summary>
public static class AddLayerNormFusion
{
    /// <summary>Fuses every match in the graph; returns how many were fused.</summary>
    public static int Run(Model model) => Run(new FusionGraph(model, ShapeInference.Infer(model)));

    internal static int Run(FusionGraph graph)
    {
        var fused = 0;
        foreach (var node in graph.Graph.Nodes.ToArray())
            if (node is { OpType: "LayerNormalization", Domain: "" } && TryFuse(graph, node)) fused++;
        return fused;
    }

    private static bool TryFuse(FusionGraph graph, Node layerNorm)
    {
        if (layerNorm.Inputs.Count is < 2 or > 3 || layerNorm.Outputs.Count != 1 || layerNorm.GetInt("stash_type", 1) != 1) return false;
        var sum = layerNorm.Inputs[0];
        if (graph.Producer(sum) is not { OpType: "Add", Domain: "" } add || add.Inputs.Count != 2 || add.Outputs.Count != 1
            || !graph.OnlyFeeds(sum, layerNorm))
            return false;
        var (a, b) = (add.Inputs[0], add.Inputs[1]);
        if (graph.Shape(a) is not { Count: > 0 } shapeA || graph.Shape(b) is not { } shapeB || !SameKnownShape(shapeA, shapeB)) return false;
        if (graph.ElementType(a) is not (DataType.Float32 or DataType.Undefined) || graph.ElementType(b) is not (DataType.Float32 or DataType.Undefined))
            return false;
        var axis = layerNorm.GetInt("axis", -1);
        if (axis != -1 && axis != shapeA.Count - 1) return false;

        var output = layerNorm.Outputs[0];
        var inputs = new List<string> { a, b, layerNorm.Inputs[1] };
        if (layerNorm.Inputs.Count == 3) inputs.Add(layerNorm.Inputs[2]);
        var fused = new Node(SparrowOps.AddLayerNormalization, inputs, new[] { output }, graph.UniqueNodeName($"AddLayerNormalization_{output}"), SparrowOps.Domain);
        fused.SetAttribute(NodeAttribute.Float("epsilon", layerNorm.GetFloat("epsilon", 1e-5f)));
        graph.Replace(new[] { add, layerNorm }, fused);
        return true;
    }

    private static bool SameKnownShape(IReadOnlyList<Dimension> a, IReadOnlyList<Dimension> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
            if ((a[i].Value is null && a[i].Symbol is null) || a[i] != b[i]) return false;
        return true;
    }
}
