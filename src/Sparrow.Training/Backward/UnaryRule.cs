using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>Element-wise one-input operators: dX = dY · f'(x, y), written once per op as a local derivative.</summary>
internal abstract class UnaryRule : BackwardRule
{
    /// <summary>Keeps the node.</summary>
    protected UnaryRule(Node node) : base(node) { }

    /// <inheritdoc/>
    public sealed override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (!context.Needs(0)) return result;
        var x = context.Input(0);
        var y = context.Output(0);
        var dy = context.OutputGradient(0);
        var dx = Tensor<float>.Allocate(x.Shape, clear: false);
        Derivative(x.Span, y.Span, dy.Span, dx.Span);
        result[0] = dx;
        return result;
    }

    /// <summary>Writes dx = dy · f'(x) given the input x and the output y.</summary>
    protected abstract void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);
}
