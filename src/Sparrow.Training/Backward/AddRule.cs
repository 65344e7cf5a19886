using Sparrow.Graph;
using Sparrow.Runtime.Operators;

namespace Sparrow.Training.Backward;

/// <summary>Add: both operands get dY.</summary>
[BackwardRule("Add")]
internal sealed class AddRule : BinaryRule
{
    /// <summary>Compiles the rule.</summary>
    public AddRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    protected override void Gradient(int operand, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> result) =>
        dy.CopyTo(result);
}
