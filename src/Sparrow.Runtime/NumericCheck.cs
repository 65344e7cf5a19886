using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime;

/// <summary>Finds NaN and infinity early and names where they came from, instead of letting them spread.</summary>
internal static class NumericCheck
{
    public static void ThrowIfNotFinite(Tensor tensor, Node node, string valueName)
    {
        if (tensor is not Tensor<float> f) return;
        var span = f.Span;
        for (var i = 0; i < span.Length; i++)
            if (!float.IsFinite(span[i]))
                throw new InferenceException($"node {node.DisplayName}: output '{valueName}' holds {span[i]} at element {i}.");
    }
}
