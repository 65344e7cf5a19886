using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Tensors;

namespace Sparrow.Training.Autograd;

/// <summary>Broadcasting helpers for backward rules: expand a tensor to a larger shape, sum a gradient back down.</summary>
public static class TensorMath
{
    /// <summary>
    /// Walks the rows (all dimensions but the last) of <paramref name="outputShape"/> and gives, for each, the
    /// offset in a tensor of <paramref name="inputShape"/> broadcast to it, and whether the input's last
    /// dimension is broadcast (stride 0) or runs along (stride 1).
    /// </summary>
    private static (int[] Offsets, bool InnerBroadcast, int Inner) RowOffsets(ReadOnlySpan<int> outputShape, ReadOnlySpan<int> inputShape)
    {
        var rank = outputShape.Length;
        if (inputShape.Length > rank) throw new ArgumentException($"Cannot broadcast {TensorShape.Format(inputShape)} to {TensorShape.Format(outputShape)}.");
        var strides = new int[rank];
        var inputStrides = TensorShape.Strides(inputShape);
        for (var d = 0; d < rank; d++)
        {
            var id = d - (rank - inputShape.Length);
            if (id < 0) continue;
            if (inputShape[id] == outputShape[d]) strides[d] = inputStrides[id];
            else if (inputShape[id] == 1) strides[d] = 0;
            else throw new ArgumentException($"Cannot broadcast {TensorShape.Format(inputShape)} to {TensorShape.Format(outputShape)}.");
        }
        if (rank == 0) return (new[] { 0 }, false, 1);
        var inner = outputShape[rank - 1];
        var rows = TensorShape.Product(outputShape, 0, rank - 1);
        var offsets = new int[rows];
        var index = new int[rank - 1];
        var offset = 0;
        for (var r = 0; r < rows; r++)
        {
            offsets[r] = offset;
            for (var d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                offset += strides[d];
                if (index[d] < outputShape[d]) break;
                offset -= strides[d] * index[d];
                index[d] = 0;
            }
        }
        return (offsets, strides[rank - 1] == 0 && inner > 1, inner);
    }

    /// <summary>A new tensor of <paramref name="shape"/> holding <paramref name="x"/> broadcast to it (numpy rules).</summary>
    public static Tensor<T> Expand<T>(Tensor<T> x, ReadOnlySpan<int> shape) where T : unmanaged
    {
        var y = Tensor<T>.Allocate(shape, clear: false);
        if (x.Shape.SequenceEqual(shape))
        {
            x.Span.CopyTo(y.Span);
            return y;
        }
        var (offsets, innerBroadcast, inner) = RowOffsets(shape, x.Shape);
        ReadOnlySpan<T> source = x.Span;
        var target = y.Span;
        for (var r = 0; r < offsets.Length; r++)
        {
            var row = target.Slice(r * inner, inner);
            if (innerBroadcast) row.Fill(source[offsets[r]]);
            else source.Slice(offsets[r], inner).CopyTo(row);
        }
        return y;
    }

    /// <summary>
    /// Sums <paramref name="gradient"/> (of a broadcast result) down to <paramref name="shape"/>, the shape of
    /// the operand that was broadcast: the gradient of that operand. Always a new tensor.
    /// </summary>
    public static Tensor<float> SumTo(Tensor<float> gradient, ReadOnlySpan<int> shape)
    {
        var result = Tensor<float>.Allocate(shape, clear: true);
        if (gradient.Shape.SequenceEqual(shape))
        {
            gradient.Span.CopyTo(result.Span);
            return result;
        }
        var (offsets, innerBroadcast, inner) = RowOffsets(gradient.Shape, shape);
        ReadOnlySpan<float> source = gradient.Span;
        var target = result.Span;
        for (var r = 0; r < offsets.Length; r++)
        {
            var row = source.Slice(r * inner, inner);
            if (innerBroadcast) target[offsets[r]] += TensorPrimitives.Sum(row);
            else
            {
                var t = target.Slice(offsets[r], inner);
                TensorPrimitives.Add(t, row, t);
            }
        }
        return result;
    }

    /// <summary>Adds <paramref name="source"/> into <paramref name="target"/> element by element (same length).</summary>
    public static void AddInto(Span<float> target, ReadOnlySpan<float> source)
    {
        if (target.Length != source.Length) throw new ArgumentException($"Cannot add {source.Length} values into {target.Length}.");
        TensorPrimitives.Add(target, source, target);
    }

    /// <summary>A 2-D transpose of a row-major [rows, columns] block into [columns, rows].</summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> target)
    {
        const int Tile = 32;
        for (var r0 = 0; r0 < rows; r0 += Tile)
        {
            var r1 = Math.Min(rows, r0 + Tile);
            for (var c0 = 0; c0 < columns; c0 += Tile)
            {
                var c1 = Math.Min(columns, c0 + Tile);
                for (var r = r0; r < r1; r++)
                    for (var c = c0; c < c1; c++)
                        target[c * rows + r] = source[r * columns + c];
            }
        }
    }
}
