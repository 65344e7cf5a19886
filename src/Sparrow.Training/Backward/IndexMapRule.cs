using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Training.Backward;

/// <summary>
/// Operators that only move elements (Transpose, Gather, Slice, Expand, Concat, Tile): the forward operator is
/// run once more on tensors of element positions instead of the data, which tells, for every output element,
/// the input element it came from; the output gradient is then added back to those positions. One rule
/// covers every attribute and opset variant the runtime's operator handles.
/// </summary>
[BackwardRule("Transpose")]
[BackwardRule("Gather")]
[BackwardRule("Slice")]
[BackwardRule("Expand")]
[BackwardRule("Concat")]
[BackwardRule("Tile")]
internal sealed class IndexMapRule : BackwardRule
{
    private readonly Operator _forward;
    private readonly bool _rowGather;

    /// <summary>Compiles the rule and a second copy of the forward operator.</summary>
    public IndexMapRule(Node node, OperatorContext context) : base(node)
    {
        _forward = OperatorRegistry.Create(node, context);
        _rowGather = node.OpType == "Gather" && node.GetInt("axis", 0) == 0;
    }

    /// <summary>Which inputs carry data that moves (the others are indices, shapes, axes).</summary>
    private bool IsData(int input) => Node.OpType == "Concat" || input == 0;

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        if (_rowGather && context.Needs(0)) return GatherRows(context, result);
        var positions = new Tensor?[context.Inputs.Length];
        var offsets = new int[context.Inputs.Length + 1];
        var total = 0;
        for (var i = 0; i < positions.Length; i++)
        {
            offsets[i] = total;
            var input = context.Inputs[i];
            if (input is null || !IsData(i))
            {
                positions[i] = input;
                continue;
            }
            var iota = new int[input.Length];
            for (var j = 0; j < iota.Length; j++) iota[j] = total + j;
            positions[i] = Tensor<int>.FromArray(iota, input.CopyShape());
            total += input.Length;
        }
        offsets[^1] = total;
        var mapped = _forward.Run(positions, new RunContext(context.Threads));
        try
        {
            var map = mapped[0] as Tensor<int> ?? throw new InvalidOperationException("the position map is not int32.");
            var gradient = new float[total];
            ReadOnlySpan<float> dy = context.OutputGradient(0).Span;
            ReadOnlySpan<int> source = map.Span;
            for (var i = 0; i < source.Length; i++) gradient[source[i]] += dy[i];
            for (var i = 0; i < positions.Length; i++)
            {
                if (!IsData(i) || context.Inputs[i] is null || !context.Needs(i)) continue;
                var dx = Tensor<float>.Allocate(context.Inputs[i]!.Shape, clear: false);
                gradient.AsSpan(offsets[i], context.Inputs[i]!.Length).CopyTo(dx.Span);
                result[i] = dx;
            }
        }
        finally
        {
            foreach (var t in mapped) t.Dispose();
        }
        return result;
    }

    /// <summary>Gather on axis 0 (an embedding lookup): each output row's gradient is added to the table row it read.</summary>
    private static Tensor<float>?[] GatherRows(BackwardContext context, Tensor<float>?[] result)
    {
        var table = context.Input(0);
        var indices = context.Inputs[1] switch
        {
            Tensor<long> l => l.ToArray(),
            Tensor<int> i => i.ToArray().Select(v => (long)v).ToArray(),
            var other => throw new InvalidOperationException($"Gather's indices must be int32 or int64, got {other}."),
        };
        var rows = table.Shape[0];
        var width = rows == 0 ? 0 : table.Length / rows;
        var dTable = Tensor<float>.Allocate(table.Shape, clear: true);
        ReadOnlySpan<float> dy = context.OutputGradient(0).Span;
        var target = dTable.Span;
        for (var i = 0; i < indices.Length; i++)
        {
            var row = indices[i] < 0 ? indices[i] + rows : indices[i];
            if (row < 0 || row >= rows) throw new InvalidOperationException($"Gather index {indices[i]} is outside [-{rows}, {rows - 1}].");
            Autograd.TensorMath.AddInto(target.Slice((int)row * width, width), dy.Slice(i * width, width));
        }
        result[0] = dTable;
        return result;
    }
}
