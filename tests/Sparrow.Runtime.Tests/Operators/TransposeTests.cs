using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

public sealed class TransposeTests
{
    /// <summary>out[i_0..i_{n-1}] = in[j] with j[perm[k]] = i_k, one element at a time.</summary>
    private static T[] Naive<T>(T[] input, int[] shape, int[] perm)
    {
        var rank = shape.Length;
        var outShape = perm.Select(p => shape[p]).ToArray();
        var inStrides = TensorShape.Strides(shape);
        var result = new T[input.Length];
        var index = new int[rank];
        for (var o = 0; o < result.Length; o++)
        {
            var rest = o;
            for (var k = rank - 1; k >= 0; k--)
            {
                index[k] = rest % outShape[k];
                rest /= outShape[k];
            }
            var source = 0;
            for (var k = 0; k < rank; k++) source += index[k] * inStrides[perm[k]];
            result[o] = input[source];
        }
        return result;
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0)
        {
            yield return Array.Empty<int>();
            yield break;
        }
        foreach (var rest in Permutations(n - 1))
            for (var position = 0; position <= rest.Length; position++)
            {
                var p = rest.ToList();
                p.Insert(position, n - 1);
                yield return p.ToArray();
            }
    }

    private static void Check<T>(Random random, int[] shape, int[] perm, Func<int, T> make) where T : unmanaged
    {
        var n = TensorShape.Product(shape);
        var data = Enumerable.Range(0, n).Select(i => make(random.Next())).ToArray();
        var expected = Naive(data, shape, perm);
        var actual = new T[n];
        TransposeKernel.Transpose<T>(data, actual, shape, perm);
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"shape {TensorShape.Format(shape)} perm [{string.Join(",", perm)}]");
    }

    [Fact]
    public void every_permutation_up_to_rank_4_matches_naive_for_every_element_size()
    {
        var random = new Random(1234);
        var sizes = new[] { 1, 2, 3, 5, 16, 17, 33 };
        for (var rank = 1; rank <= 4; rank++)
            foreach (var perm in Permutations(rank))
                for (var trial = 0; trial < 6; trial++)
                {
                    var shape = Enumerable.Range(0, rank).Select(_ => sizes[random.Next(sizes.Length)]).ToArray();
                    if (TensorShape.Product(shape) > 40_000) continue;
                    Check(random, shape, perm, v => (byte)v);
                    Check(random, shape, perm, v => (short)v);
                    Check(random, shape, perm, v => (float)v);
                    Check(random, shape, perm, v => (long)v);
                }
    }

    [Fact]
    public void rank_5_and_6_random_permutations_match_naive()
    {
        var random = new Random(99);
        for (var trial = 0; trial < 60; trial++)
        {
            var rank = 5 + trial % 2;
            var shape = Enumerable.Range(0, rank).Select(_ => random.Next(1, 6)).ToArray();
            var perm = Enumerable.Range(0, rank).OrderBy(_ => random.Next()).ToArray();
            Check(random, shape, perm, v => (float)v);
        }
    }

    [Theory]
    [InlineData(1, 7, 12, 32)]   // attention split heads: [batch, seq, heads, headDim] -> [batch, heads, seq, headDim]
    [InlineData(4, 128, 12, 32)]
    [InlineData(2, 9, 3, 1)]
    [InlineData(3, 1, 5, 8)]
    public void attention_permutations_match_naive(int batch, int seq, int heads, int headDim)
    {
        var random = new Random(7);
        int[] shape = [batch, seq, heads, headDim];
        Check(random, shape, [0, 2, 1, 3], v => (float)v);
        Check(random, shape, [0, 2, 3, 1], v => (float)v);
        Check(random, shape, [0, 1, 3, 2], v => (float)v);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 50)]
    [InlineData(50, 1)]
    [InlineData(15, 17)]
    [InlineData(16, 16)]
    [InlineData(384, 130)]
    public void two_d_matches_naive(int rows, int cols)
    {
        var random = new Random(rows * 1000 + cols);
        Check(random, [rows, cols], [1, 0], v => (float)v);
        Check(random, [rows, cols], [1, 0], v => (double)v);
    }

    [Fact]
    public void operator_defaults_to_reversed_axes_and_keeps_element_type()
    {
        var data = Tensor<long>.FromArray(Enumerable.Range(0, 24).Select(i => (long)i).ToArray(), 2, 3, 4);
        var result = OperatorHarness.Run("Transpose", 13, [data])[0].As<long>();
        Assert.Equal(new[] { 4, 3, 2 }, result.Shape.ToArray());
        Assert.Equal(Naive(data.ToArray(), [2, 3, 4], [2, 1, 0]), result.ToArray());
    }

    [Fact]
    public void bad_permutation_is_named()
    {
        var data = Tensor<float>.Allocate([2, 3]);
        var e = Assert.Throws<ArgumentException>(() =>
            OperatorHarness.Run("Transpose", 13, [data], attributes: NodeAttribute.Ints("perm", [0, 0])));
        Assert.Contains("perm [0,0]", e.Message);
    }
}
