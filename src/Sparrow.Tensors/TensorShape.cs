namespace Sparrow.Tensors;

/// <summary>Helpers over shapes held as <c>int[]</c> (row-major, contiguous).</summary>
public static class TensorShape
{
    /// <summary>The largest element count one tensor may hold; keeps every offset an <c>int</c>.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>The number of elements of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the product exceeds <see cref="MaxElements"/>.</exception>
    public static int Product(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension {d} in shape {Format(shape)}.");
            n *= d;
            if (n > MaxElements) throw new ArgumentException($"Shape {Format(shape)} holds more than {MaxElements} elements.");
        }
        return (int)n;
    }

    /// <summary>The product of the dimensions from <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive); 1 when the range is empty.</summary>
    public static int Product(ReadOnlySpan<int> shape, int start, int end)
    {
        var n = 1;
        for (var i = start; i < end; i++) n *= shape[i];
        return n;
    }

    /// <summary>Row-major strides of a contiguous tensor of this shape.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        var s = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    /// <summary>The shape two shapes broadcast to under the ONNX (numpy) rules, or null when they do not.</summary>
    public static int[]? TryBroadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da == db || db == 1) result[i] = da;
            else if (da == 1) result[i] = db;
            else return null;
        }
        return result;
    }

    /// <summary>The shape <paramref name="a"/> and <paramref name="b"/> broadcast to (NumPy rules, as ONNX uses them).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b) =>
        TryBroadcast(a, b) ?? throw new ArgumentException($"Shapes {Format(a)} and {Format(b)} do not broadcast.");

    /// <summary>Whether the two shapes are equal, dimension by dimension.</summary>
    public static bool SequenceEqual(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>The shape written as "[d0,d1,...]", for messages.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Normalises a possibly negative axis against a rank, with a clear error when out of range.</summary>
    public static int NormalizeAxis(long axis, int rank, string what = "axis")
    {
        var a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1) && !(rank == 0 && a == 0))
            throw new ArgumentException($"{what} {axis} is out of range for rank {rank}.");
        return (int)a;
    }
}
