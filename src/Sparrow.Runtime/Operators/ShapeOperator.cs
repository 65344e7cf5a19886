using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>Shape: the input's dimensions as int64; from opset 15 only those in [start, end), both clamped to the rank.</summary>
[OnnxOperator("Shape")]
internal sealed class ShapeOperator : Operator
{
    private readonly long _start;
    private readonly long? _end;

    public ShapeOperator(Node node, OperatorContext context) : base(node)
    {
        _start = node.GetInt("start", 0);
        _end = node.FindAttribute("end")?.AsInt();
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        var rank = x.Rank;
        var start = Clamp(_start, rank);
        var end = _end is { } e ? Clamp(e, rank) : rank;
        var length = Math.Max(0, end - start);
        var output = Tensor<long>.Allocate([length], clear: false);
        for (var i = 0; i < length; i++) output.Span[i] = x.Shape[start + i];
        return [output];
    }

    /// <summary>Negative values count from the end; anything out of range is clamped, as the spec says.</summary>
    private static int Clamp(long axis, int rank) => (int)Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank);
}
