using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>
/// MaxPool: the gradient of each window goes to the element that won it. The winners come from the
/// runtime's own MaxPool asked for its Indices output (flat positions in the input), so every attribute
/// it supports (pads, strides, dilations, ceil_mode) is covered.
/// </summary>
[BackwardRule("MaxPool")]
internal sealed class MaxPoolRule : BackwardRule
{
    private readonly Operator _withIndices;

    /// <summary>Compiles the rule and a MaxPool that also returns its indices.</summary>
    public MaxPoolRule(Node node, OperatorContext context) : base(node)
    {
        var shadow = new Node("MaxPool", node.Inputs, [node.Outputs[0] + ".values", node.Outputs[0] + ".indices"], node.Name + ".backward");
        foreach (var attribute in node.Attributes)
            if (attribute.Name != "storage_order") shadow.Attributes.Add(attribute);
        _withIndices = OperatorRegistry.Create(shadow, context);
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0)) return result;
        var outputs = _withIndices.Run(context.Inputs, new RunContext(context.Threads));
        try
        {
            var indices = outputs[1] as Tensor<long> ?? throw new InvalidOperationException("MaxPool's indices are not int64.");
            var dx = Tensor<float>.Allocate(context.Inputs[0]!.Shape, clear: true);
            var d = dx.Span;
            ReadOnlySpan<float> g = context.OutputGradient(0).Span;
            ReadOnlySpan<long> at = indices.Span;
            for (var i = 0; i < at.Length; i++) d[(int)at[i]] += g[i];
            result[0] = dx;
        }
        finally
        {
            foreach (var t in outputs) t.Dispose();
        }
        return result;
    }
}
