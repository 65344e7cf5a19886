using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// Fuses MatMul(X, W) + b, with W a 2-D float32 initializer [K, N] and b a 1-D float32 constant of length N
/// (either Add operand order), into <c>ai.sparrow:Linear</c>(X, W, b) with activation "". Then, when a
/// Linear's output is read only by a Relu or an exact GELU (ai.sparrow:Gelu, or ONNX Gelu with
/// approximate="none"), the activation is folded in (activation="Relu" or "Gelu").
/// </summary>
/// <remarks>
/// W must be an initializer (not a graph input, which a caller could override) so that the runtime can pack
/// it once. The bias rank is 1, so the Add cannot broadcast X's rows any differently than Linear does.
/// </remarks>
internal static class LinearFusion
{
    /// <summary>Fuses every match in the graph; returns how many MatMul+Add pairs were fused.</summary>
    public static int Run(Model model)
    {
        var graph = new FusionGraph(model, ShapeInference.Infer(model));
        var fused = Run(graph);
        FoldActivations(graph);
        return fused;
    }

    internal static int Run(FusionGraph graph)
    {
        var fused = 0;
        foreach (var node in graph.Graph.Nodes.ToArray())
            if (node is { OpType: "MatMul", Domain: "" } && TryFuse(graph, node)) fused++;
        return fused;
    }

    private static bool TryFuse(FusionGraph graph, Node matMul)
    {
        if (matMul.Inputs.Count != 2 || matMul.Outputs.Count != 1) return false;
        var (x, w) = (matMul.Inputs[0], matMul.Inputs[1]);
        if (!graph.IsInitializer(w) || graph.Constant(w) is not Tensor<float> { Rank: 2 } weight) return false;
        if (graph.ElementType(x) is not (DataType.Float32 or DataType.Undefined)) return false;
        // A 1-D X works the same in MatMul and Linear; a known scalar X is an error for both, so leave it alone.
        if (graph.Rank(x) is 0) return false;
        var product = matMul.Outputs[0];
        if (graph.Readers(product) is not [{ OpType: "Add", Domain: "" } add] || !graph.OnlyFeeds(product, add) || add.Inputs.Count != 2 || add.Outputs.Count != 1) return false;
        var b = add.Inputs[0] == product ? add.Inputs[1] : add.Inputs[0];
        if (graph.Constant(b) is not Tensor<float> { Rank: 1 } bias || bias.Length != weight.Shape[1]) return false;

        var output = add.Outputs[0];
        var fused = new Node(SparrowOps.Linear, new[] { x, w, b }, new[] { output }, graph.UniqueNodeName($"Linear_{output}"), SparrowOps.Domain);
        fused.SetAttribute(NodeAttribute.String(SparrowOps.ActivationAttribute, ""));
        graph.Replace(new[] { matMul, add }, fused);
        return true;
    }

    /// <summary>Folds a Relu or exact GELU that alone reads a Linear's output into the Linear; returns how many.</summary>
    internal static int FoldActivations(FusionGraph graph)
    {
        var folded = 0;
        foreach (var linear in graph.Graph.Nodes.ToArray())
        {
            if (linear is not { OpType: SparrowOps.Linear, Domain: SparrowOps.Domain } || linear.Outputs.Count != 1) continue;
            if (linear.GetString(SparrowOps.ActivationAttribute, "") != "") continue;
            var y = linear.Outputs[0];
            if (graph.Readers(y) is not [var activation] || !graph.OnlyFeeds(y, activation) || activation.Outputs.Count != 1) continue;
            var name = ActivationName(activation);
            if (name is null) continue;
            var fused = new Node(SparrowOps.Linear, linear.Inputs, activation.Outputs, linear.Name, SparrowOps.Domain);
            fused.SetAttribute(NodeAttribute.String(SparrowOps.ActivationAttribute, name));
            graph.Replace(new[] { linear, activation }, fused);
            folded++;
        }
        return folded;
    }

    private static string? ActivationName(Node node) => node switch
    {
        { OpType: "Relu", Domain: "" } => "Relu",
        { OpType: SparrowOps.Gelu, Domain: SparrowOps.Domain } => "Gelu",
        { OpType: "Gelu", Domain: "" } when node.GetString("approximate", "none") == "none" => "Gelu",
        _ => null,
    };
}
