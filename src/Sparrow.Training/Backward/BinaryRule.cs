using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// Element-wise two-input operators with numpy broadcasting: each rule gives the gradient with respect to
/// an operand at the broadcast shape, and this base sums it back down to the operand's own shape.
/// </summary>
internal abstract class BinaryRule : BackwardRule
{
    /// <summary>Keeps the node.</summary>
    protected BinaryRule(Node node) : base(node) { }

    /// <inheritdoc/>
    public sealed override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var a = AsFloat(context.Inputs[0]);
        var b = AsFloat(context.Inputs[1]);
        var y = context.Output(0);
        var dy = context.OutputGradient(0);
        for (var operand = 0; operand < 2; operand++)
        {
            if (!context.Needs(operand)) continue;
            var own = operand == 0 ? a : b;
            using var full = Tensor<float>.Allocate(y.Shape, clear: false);
            using (var ea = TensorMath.Expand(a, y.Shape))
            using (var eb = TensorMath.Expand(b, y.Shape))
                Gradient(operand, ea.Span, eb.Span, y.Span, dy.Span, full.Span);
            result[operand] = TensorMath.SumTo(full, own.Shape);
        }
        return result;
    }

    /// <summary>A float view of an operand (Pow's exponent may be an integer or double constant).</summary>
    internal static Tensor<float> AsFloat(Tensor? t) => t switch
    {
        Tensor<float> f => f,
        Tensor<double> d => Tensor<float>.FromArray(d.ToArray().Select(v => (float)v).ToArray(), d.CopyShape()),
        Tensor<long> l => Tensor<float>.FromArray(l.ToArray().Select(v => (float)v).ToArray(), l.CopyShape()),
        Tensor<int> i => Tensor<float>.FromArray(i.ToArray().Select(v => (float)v).ToArray(), i.CopyShape()),
        _ => throw new InvalidOperationException($"an operand of {t} cannot be differentiated."),
    };

    /// <summary>Writes the gradient of operand 0 (a) or 1 (b), all spans at the broadcast shape.</summary>
    protected abstract void Gradient(int operand, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> result);
}
