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

    /// <summary>Refuses a model whose weights (initializers, Constant nodes) hold NaN or infinity, naming the first such tensor.</summary>
    public static void ThrowIfWeightsNotFinite(Model model)
    {
        foreach (var (name, tensor) in model.Graph.Initializers)
            if (FirstNonFinite(tensor) is var i and >= 0)
                throw new ModelException($"weight '{name}' holds {ValueAt(tensor, i)} at element {i}: NaN and infinite weights make every output meaningless (SessionOptions.CheckWeights = false skips this check).");
        foreach (var node in model.Graph.Nodes)
            if (node is { OpType: "Constant", Domain: "" } && node.FindAttribute("value") is { Kind: AttributeKind.Tensor } attribute && attribute.AsTensor() is var value && FirstNonFinite(value) is var i and >= 0)
                throw new ModelException($"node {node.DisplayName}: constant '{node.Outputs[0]}' holds {ValueAt(value, i)} at element {i}: NaN and infinite weights make every output meaningless (SessionOptions.CheckWeights = false skips this check).");
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
