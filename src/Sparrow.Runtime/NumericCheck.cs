using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime;

/// <summary>Finds NaN and infinity early and names where they came from, instead of letting them spread.</summary>
internal static class NumericCheck
{
    /// <summary>The first element of a float tensor that is NaN or infinite, or -1; vectorised, so cheap next to inference.</summary>
    public static int FirstNonFinite(Tensor tensor)
    {
        switch (tensor)
        {
            case Tensor<float> f:
            {
                var span = f.Span;
                if (span.Length == 0 || float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(span))) return -1;
                for (var i = 0; i < span.Length; i++) if (!float.IsFinite(span[i])) return i;
                return -1;
            }
            case Tensor<double> d:
            {
                var span = d.Span;
                for (var i = 0; i < span.Length; i++) if (!double.IsFinite(span[i])) return i;
                return -1;
            }
            case Tensor<Half> h:
            {
                var span = h.Span;
                for (var i = 0; i < span.Length; i++) if (!Half.IsFinite(span[i])) return i;
                return -1;
            }
            default:
                return -1;
        }
    }

    private static string ValueAt(Tensor tensor, int index) => tensor switch
    {
        Tensor<float> f => f.Span[index].ToString(System.Globalization.CultureInfo.InvariantCulture),
        Tensor<double> d => d.Span[index].ToString(System.Globalization.CultureInfo.InvariantCulture),
        Tensor<Half> h => h.Span[index].ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => "?",
    };

    /// <summary>The first element of a float tensor that is NaN, or -1. Infinity is not reported: a weight may hold it on purpose (a -inf attention mask).</summary>
    public static int FirstNaN(Tensor tensor)
    {
        switch (tensor)
        {
            case Tensor<float> f:
            {
                var span = f.Span;
                // MaxMagnitude is NaN when any element is; finite means neither NaN nor infinity, so no scan.
                if (span.Length == 0 || float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(span))) return -1;
                return IndexOfNaN(span);
            }
            case Tensor<double> d:
            {
                var span = d.Span;
                for (var i = 0; i < span.Length; i++) if (double.IsNaN(span[i])) return i;
                return -1;
            }
            case Tensor<Half> h:
            {
                var span = h.Span;
                for (var i = 0; i < span.Length; i++) if (Half.IsNaN(span[i])) return i;
                return -1;
            }
            default:
                return -1;
        }
    }

    private static int IndexOfNaN(ReadOnlySpan<float> span)
    {
        for (var i = 0; i < span.Length; i++) if (float.IsNaN(span[i])) return i;
        return -1;
    }

    private const string WeightAdvice = "a NaN weight makes every output it reaches NaN; the model file is damaged or was saved from a diverged training run, so re-export it "
        + "(library callers can skip this check with SessionOptions.CheckWeights = false).";

    /// <summary>
    /// Refuses a model whose float weights hold NaN, naming the first such tensor: initializers and Constant nodes
    /// ("value", "value_float", "value_floats"), in the main graph and in subgraphs (If, Loop, Scan bodies).
    /// Positive and negative infinity pass: they are legitimate (attention masks, clamp bounds).
    /// </summary>
    public static void ThrowIfWeightsHoldNaN(Model model) => ThrowIfWeightsHoldNaN(model.Graph);

    private static void ThrowIfWeightsHoldNaN(ModelGraph graph)
    {
        foreach (var (name, tensor) in graph.Initializers)
            if (FirstNaN(tensor) is var i and >= 0)
                throw new ModelException($"weight '{name}' holds NaN at element {i}: {WeightAdvice}");
        foreach (var node in graph.Nodes)
        {
            if (node is { OpType: "Constant", Domain: "" } && ConstantNaN(node) is { } element)
                throw new ModelException($"node {node.DisplayName}: constant '{node.Outputs[0]}' holds NaN at element {element}: {WeightAdvice}");
            foreach (var attribute in node.Attributes)
            {
                if (attribute is { Kind: AttributeKind.Graph, Value: ModelGraph body }) ThrowIfWeightsHoldNaN(body);
                else if (attribute is { Kind: AttributeKind.Graphs, Value: ModelGraph[] bodies })
                    foreach (var b in bodies) ThrowIfWeightsHoldNaN(b);
            }
        }
    }

    private static int? ConstantNaN(Node node)
    {
        foreach (var attribute in node.Attributes)
        {
            var index = attribute switch
            {
                { Name: "value", Kind: AttributeKind.Tensor } => FirstNaN(attribute.AsTensor()),
                { Name: "value_float", Kind: AttributeKind.Float } => float.IsNaN(attribute.AsFloat()) ? 0 : -1,
                { Name: "value_floats", Kind: AttributeKind.Floats } => IndexOfNaN(attribute.AsFloats()),
                _ => -1,
            };
            if (index >= 0) return index;
        }
        return null;
    }

    /// <summary>Refuses an input holding NaN or infinity, naming it.</summary>
    public static void ThrowIfInputNotFinite(string name, Tensor tensor)
    {
        if (FirstNonFinite(tensor) is var i and >= 0)
            throw new InferenceException($"input '{name}' holds {ValueAt(tensor, i)} at element {i} (SessionOptions.CheckInputs = false skips this check).");
    }

    public static void ThrowIfNotFinite(Tensor tensor, Node node, string valueName)
    {
        if (tensor is not Tensor<float> f) return;
        var span = f.Span;
        for (var i = 0; i < span.Length; i++)
            if (!float.IsFinite(span[i]))
                throw new InferenceException($"node {node.DisplayName}: output '{valueName}' holds {span[i]} at element {i}.");
    }
}
