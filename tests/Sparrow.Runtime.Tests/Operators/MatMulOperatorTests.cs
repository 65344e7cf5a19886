using Sparrow.Graph;
using Sparrow.Tensors;
using static Sparrow.Runtime.Tests.Operators.GemmOperatorTestModels;

namespace Sparrow.Runtime.Tests.Operators;

public class MatMulOperatorTests
{
    /// <summary>numpy matmul, element by element: promote 1-D operands, broadcast batches, drop the promoted dimensions.</summary>
    private static (double[] Values, int[] Shape) Reference(Tensor<float> a, Tensor<float> b)
    {
        var sa = a.Rank == 1 ? new[] { 1, a.Shape[0] } : a.CopyShape();
        var sb = b.Rank == 1 ? new[] { b.Shape[0], 1 } : b.CopyShape();
        int m = sa[^2], k = sa[^1], n = sb[^1];
        var rank = Math.Max(sa.Length, sb.Length);
        var batch = new int[rank - 2];
        for (var d = 0; d < rank - 2; d++)
        {
            var da = d - (rank - sa.Length) >= 0 ? sa[d - (rank - sa.Length)] : 1;
            var db = d - (rank - sb.Length) >= 0 ? sb[d - (rank - sb.Length)] : 1;
            batch[d] = Math.Max(da, db);
        }
        var count = batch.Aggregate(1, (x, y) => x * y);
        var values = new double[count * m * n];
        var av = a.Span;
        var bv = b.Span;
        for (var item = 0; item < count; item++)
        {
            // Offsets of this batch index in A and B, with broadcast dimensions pinned to 0.
            int rest = item, offA = 0, offB = 0, strideA = m * k, strideB = k * n;
            for (var d = rank - 3; d >= 0; d--)
            {
                var index = rest % batch[d];
                rest /= batch[d];
                var ai = d - (rank - sa.Length);
                var bi = d - (rank - sb.Length);
                if (ai >= 0) { offA += (sa[ai] == 1 ? 0 : index) * strideA; strideA *= sa[ai]; }
                if (bi >= 0) { offB += (sb[bi] == 1 ? 0 : index) * strideB; strideB *= sb[bi]; }
            }
            for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var p = 0; p < k; p++) sum += av[offA + i * k + p] * (double)bv[offB + p * n + j];
                values[item * m * n + i * n + j] = sum;
            }
        }
        var shape = new List<int>(batch);
        if (a.Rank > 1) shape.Add(m);
        if (b.Rank > 1) shape.Add(n);
        return (values, shape.ToArray());
    }

    public static TheoryData<int[], int[]> Shapes() => new()
    {
        { [3], [3] },
        { [2, 3], [3] },
        { [3], [3, 4] },
        { [4], [2, 4, 3] },
        { [2, 3, 4], [4] },
        { [2, 3, 4], [4, 5] },
        { [2, 1, 3, 4], [1, 5, 4, 6] },
        { [1, 3, 4], [2, 4, 5] },
        { [3, 4], [2, 4, 5] },
        { [2, 2, 7, 33], [2, 2, 33, 17] },
        { [0, 3], [3, 4] },
        { [2, 0], [0, 3] },
        { [8, 12, 16, 8], [8, 12, 8, 16] },
        { [70, 65], [65, 129] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void matches_numpy_semantics(int[] aShape, int[] bShape)
    {
        var random = new Random(aShape.Sum() * 31 + bShape.Sum());
        var a = Random(random, aShape);
        var b = Random(random, bShape);
        var (expected, shape) = Reference(a, b);
        foreach (var threads in new[] { 1, 2 })
        {
            using var y = RunNode("MatMul", [("a", a), ("b", b)], threads: threads);
            AssertClose(expected, y, shape, $"MatMul {TensorShape.Format(aShape)} x {TensorShape.Format(bShape)} threads {threads}");
            // The same product with B as a constant (packed at session creation) when B is 2-D.
            using var yc = RunNode("MatMul", [("a", a), ("b", null)], new() { ["b"] = b }, threads: threads);
            AssertClose(expected, yc, shape, $"MatMul constant B {TensorShape.Format(bShape)} threads {threads}");
        }
    }

    [Fact]
    public void an_overridden_initializer_is_not_the_packed_one()
    {
        var random = new Random(5);
        var a = Random(random, 3, 4);
        var b = Random(random, 4, 2);
        var other = Random(random, 4, 2);
        var (expected, shape) = Reference(a, other);
        // "b" is both an initializer and a graph input: the caller's tensor wins.
        using var y = RunNode("MatMul", [("a", a), ("b", other)], new() { ["b"] = b });
        AssertClose(expected, y, shape, "overridden B");
    }

    [Fact]
    public void integer_matmul()
    {
        var a = Tensor<long>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor<long>.FromArray([1, 0, 0, 1, 1, 1], 3, 2);
        using var y = RunNode("MatMul", [("a", a), ("b", b)]);
        Assert.Equal(new long[] { 4, 5, 10, 11 }, y.As<long>().ToArray());
    }

    [Fact]
    public void mismatched_inner_dimensions_name_both_shapes()
    {
        var random = new Random(1);
        var ex = Assert.ThrowsAny<Exception>(() => RunNode("MatMul", [("a", Random(random, 2, 3)), ("b", Random(random, 4, 2))]));
        Assert.Contains("[2,3] x [4,2]", ex.Message);
    }
}
