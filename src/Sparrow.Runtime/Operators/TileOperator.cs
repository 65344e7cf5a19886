using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Tile (opset 6+): the input repeated repeats[i] times along each axis i (repeats: an int64 input with one
/// non-negative value per axis). Built innermost axis first: the input's rows are repeated in place, then each
/// finished block is copied repeats times along the next axis out.
/// </summary>
[OnnxOperator("Tile")]
internal sealed class TileOperator : Operator
{
    public TileOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        var repeats = ShapeInputs.ReadIntegers(Required(inputs, 1), "input 1 (repeats)");
        if (repeats.Length != x.Rank)
            throw new ArgumentException($"repeats has {repeats.Length} values; the input has rank {x.Rank}.");
        var requested = new long[x.Rank];
        for (var i = 0; i < requested.Length; i++)
        {
            if (repeats[i] < 0) throw new ArgumentException($"repeats[{i}] is {repeats[i]}; it must not be negative.");
            requested[i] = x.Shape[i] != 0 && repeats[i] > long.MaxValue / x.Shape[i] ? long.MaxValue : x.Shape[i] * repeats[i];
        }
        // The repeats come from the graph: refuse a huge output before allocating it.
        context.EnsureFits(requested, x.ElementType);
        var shape = new int[x.Rank];
        for (var i = 0; i < shape.Length; i++)
            shape[i] = requested[i] <= int.MaxValue ? (int)requested[i] : throw new ArgumentException($"the tiled axis {i} would have {requested[i]} elements, more than one tensor axis holds.");
        TensorShape.Product(shape);
        return [ElementTypeDispatch.Invoke(x.ElementType, new Repeat(x, shape, repeats))];
    }

    private readonly struct Repeat(Tensor x, int[] shape, long[] repeats) : ITypedFunction
    {
        public Tensor Invoke<T>() where T : unmanaged
        {
            var output = Tensor<T>.Allocate(shape, clear: false);
            if (output.Length == 0) return output;
            Fill<T>(x.As<T>().Span, x.Shape, output.Span, 0);
            return output;
        }

        /// <summary>Writes the tiling of the input block at <paramref name="axis"/> into destination; returns its length.</summary>
        private int Fill<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> inputShape, Span<T> destination, int axis)
        {
            var rank = inputShape.Length;
            if (axis == rank)
            {
                destination[0] = source[0];
                return 1;
            }
            var inputBlock = TensorShape.Product(inputShape, axis + 1, rank);
            var written = 0;
            // One copy of the axis: each input slice tiled over the inner axes.
            for (var i = 0; i < inputShape[axis]; i++)
                written += Fill(source.Slice(i * inputBlock, inputBlock), inputShape, destination[written..], axis + 1);
            var once = destination[..written];
            for (var r = 1; r < repeats[axis]; r++) once.CopyTo(destination.Slice(r * written, written));
            return written * (int)repeats[axis];
        }
    }
}
