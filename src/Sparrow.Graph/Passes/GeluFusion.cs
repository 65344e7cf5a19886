using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// Fuses the exact GELU that exporters spell out with Erf, x·0.5·(1 + erf(x/√2)), into one
/// <c>ai.sparrow:Gelu</c> node. Accepted spellings: the erf argument as Div(x, √2) or Mul(x, 1/√2), then
/// Add(·, 1) (or a two-input Sum, as ONNX's own expansion of Gelu writes it), and the factors x and 0.5
/// applied in any of the orders exporters use:
/// <code>
///   Mul(Mul(x, s), 0.5)      Mul(x, Mul(s, 0.5))      Mul(Mul(x, 0.5), s)      (s = 1 + erf(...))
/// </code>
/// with either operand order in every Mul and Add. Constants must be float32 scalars equal to √2 (or 1/√2) to
/// within a few ulps, and exactly 1 and 0.5; every intermediate must have no reader outside the pattern.
/// </summary>
internal static class GeluFusion
{
    /// <summary>√2 and 1/√2 may be written with a few ulps of rounding; anything further off is a different function.</summary>
    private const float ConstantTolerance = 4e-7f;

    private const float Sqrt2 = 1.41421356237f;
    private const float InvSqrt2 = 0.70710678118f;

    /// <summary>Fuses every match in the graph; returns how many were fused.</summary>
    public static int Run(Model model) => Run(new FusionGraph(model, ShapeInference.Infer(model)));

    internal static int Run(FusionGraph graph)
    {
        var fused = 0;
        foreach (var node in graph.Graph.Nodes.ToArray())
            if (node is { OpType: "Erf", Domain: "" } && TryFuse(graph, node)) fused++;
        return fused;
    }

    private static bool TryFuse(FusionGraph graph, Node erf)
    {
        if (erf.Inputs.Count != 1 || erf.Outputs.Count != 1) return false;
        // The erf argument: x / √2 or x · (1/√2).
        if (graph.Producer(erf.Inputs[0]) is not { Domain: "" } scaleNode || scaleNode.Inputs.Count != 2 || !graph.OnlyFeeds(erf.Inputs[0], erf))
            return false;
        string x;
        if (scaleNode.OpType == "Div" && graph.TryScalar(scaleNode.Inputs[1], scaleNode.Inputs[0], out var divisor) && Near(divisor, Sqrt2))
            x = scaleNode.Inputs[0];
        else if (scaleNode.OpType == "Mul" && MatchConstantOperand(graph, scaleNode, c => Near(c, InvSqrt2), out var mx))
            x = mx;
        else return false;
        if (graph.ElementType(x) is not (DataType.Float32 or DataType.Undefined)) return false;

        // s = erf + 1
        var erfOut = erf.Outputs[0];
        if (SingleReader(graph, erfOut) is not { OpType: "Add" or "Sum", Domain: "" } addOne || !MatchConstantOperand(graph, addOne, c => c == 1f, out var addOperand)
            || addOperand != erfOut)
            return false;
        var s = addOne.Outputs[0];
        var matched = new List<Node> { scaleNode, erf, addOne };

        if (SingleReader(graph, s) is not { OpType: "Mul", Domain: "" } first || first.Inputs.Count != 2) return false;
        matched.Add(first);
        string output;
        var partner = first.Inputs[0] == s ? first.Inputs[1] : first.Inputs[0];
        if (partner == x)
        {
            // Mul(Mul(x, s), 0.5)
            if (SingleReader(graph, first.Outputs[0]) is not { OpType: "Mul", Domain: "" } half
                || !MatchConstantOperand(graph, half, c => c == 0.5f, out var halfOperand) || halfOperand != first.Outputs[0])
                return false;
            matched.Add(half);
            output = half.Outputs[0];
        }
        else if (graph.TryScalar(partner, s, out var factor) && factor == 0.5f)
        {
            // Mul(x, Mul(s, 0.5))
            if (SingleReader(graph, first.Outputs[0]) is not { OpType: "Mul", Domain: "" } outer || outer.Inputs.Count != 2
                || (outer.Inputs[0] == first.Outputs[0] ? outer.Inputs[1] : outer.Inputs[0]) != x)
                return false;
            matched.Add(outer);
            output = outer.Outputs[0];
        }
        else if (graph.Producer(partner) is { OpType: "Mul", Domain: "" } halfX && graph.OnlyFeeds(partner, first)
                 && MatchConstantOperand(graph, halfX, c => c == 0.5f, out var halfXOperand) && halfXOperand == x)
        {
            // Mul(Mul(x, 0.5), s)
            matched.Add(halfX);
            output = first.Outputs[0];
        }
        else return false;

        var fused = new Node(SparrowOps.Gelu, new[] { x }, new[] { output }, graph.UniqueNodeName($"Gelu_{output}"), SparrowOps.Domain);
        graph.Replace(matched, fused);
        return true;
    }

    private static bool Near(float value, float expected) => MathF.Abs(value - expected) <= ConstantTolerance * expected;

    /// <summary>The only reader of an intermediate value, when there is exactly one (reading it once).</summary>
    private static Node? SingleReader(FusionGraph graph, string value) =>
        graph.Readers(value) is [var reader] && graph.OnlyFeeds(value, reader) ? reader : null;

    /// <summary>A binary node with one operand a scalar constant meeting <paramref name="test"/>; returns the other operand.</summary>
    private static bool MatchConstantOperand(FusionGraph graph, Node node, Func<float, bool> test, out string operand)
    {
        operand = "";
        if (node.Inputs.Count != 2 || node.Outputs.Count != 1) return false;
        for (var i = 0; i < 2; i++)
        {
            var other = node.Inputs[1 - i];
            if (graph.TryScalar(node.Inputs[i], other, out var value) && test(value))
            {
                operand = other;
                return true;
            }
        }
        return false;
    }
}
