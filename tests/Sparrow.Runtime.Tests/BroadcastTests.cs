using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>The broadcasting driver against a naive reference that maps every output index to each input.</summary>
public sealed class BroadcastTests
{
    public static TheoryData<int[], int[]> NamedShapePairs => new()
    {
        { [2, 3, 4], [2, 3, 4] },        // same shape: one flat run
        { [2, 3, 4], [] },               // scalar right
        { [], [5, 7] },                  // scalar left
        { [1], [3, 5] },                 // one-element tensor, not rank 0
        { [2, 3, 24], [24] },            // bias row over the last dimension
        { [24], [2, 3, 24] },            // bias row on the left
        { [2, 3, 24], [2, 3, 1] },       // one element per row (LayerNorm's x - mean)
        { [2, 1, 24], [1, 3, 1] },       // both sides broadcast in different dimensions
        { [3, 1], [1, 4] },              // outer product
        { [4, 1, 3, 1, 2], [4, 5, 1, 6, 2] },
        { [2, 3, 4, 5], [3, 1, 5] },
        { [1, 1, 1], [1] },              // all ones
        { [2, 0, 3], [3] },              // empty output
        { [0], [] },
        { [2, 12, 7, 7], [2, 1, 1, 7] }, // attention mask over heads and query positions
    };

    [Theory]
    [MemberData(nameof(NamedShapePairs))]
    public void Binary_matches_reference_for_named_shapes(int[] a, int[] b)
    {
        var random = new Random(a.Sum() * 31 + b.Length);
        CheckBinary(a, b, random, threads: 1);
        CheckBinary(a, b, random, threads: 3);
    }

    [Fact]
    public void Binary_matches_reference_for_random_shape_pairs()
    {
        var random = new Random(1234);
        for (var trial = 0; trial < 500; trial++)
        {
            var (a, b) = RandomBroadcastPair(random);
            CheckBinary(a, b, random, threads: 1 + trial % 3);
        }
    }

    [Fact]
    public void Binary_rejects_incompatible_shapes_naming_both()
    {
        using var a = Tensor<float>.Allocate([2, 3]);
        using var b = Tensor<float>.Allocate([4]);
        var e = Assert.Throws<ArgumentException>(() => Broadcast.Binary<float, float, float, ArithmeticKernel<float, AddOperation>>(a, b, null));
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[4]", e.Message);
    }

    [Fact]
    public void Select_matches_reference_for_random_shape_triples()
    {
        var random = new Random(99);
        for (var trial = 0; trial < 300; trial++)
        {
            var output = RandomShape(random, maxRank: 4);
            var shapes = Enumerable.Range(0, 3).Select(_ => DeriveInputShape(output, random)).ToArray();
            using var condition = Tensor<bool>.FromArray(Enumerable.Range(0, TensorShape.Product(shapes[0])).Select(_ => random.Next(2) == 0).ToArray(), shapes[0]);
            using var x = RandomInts(shapes[1], random);
            using var y = RandomInts(shapes[2], random);
            var threads = 1 + trial % 3;
            using var actual = Broadcast.Select(condition, x, y, new RunContext(threads), minElementsPerThread: 8);
            var expectedShape = TensorShape.Broadcast(TensorShape.Broadcast(shapes[0], shapes[1]), shapes[2]);
            Assert.Equal(expectedShape, actual.Shape.ToArray());
            ForEachIndex(expectedShape, (flat, index) =>
            {
                var expected = condition.Span[Map(index, shapes[0])] ? x.Span[Map(index, shapes[1])] : y.Span[Map(index, shapes[2])];
                Assert.Equal(expected, actual.Span[flat]);
            });
        }
    }

    [Fact]
    public void To_expands_like_reference_for_random_shapes()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 300; trial++)
        {
            var output = RandomShape(random, maxRank: 5);
            var input = DeriveInputShape(output, random);
            using var x = RandomInts(input, random);
            using var actual = Broadcast.To(x, output, new RunContext(1 + trial % 2), minElementsPerThread: 8);
            Assert.Equal(output, actual.Shape.ToArray());
            ForEachIndex(output, (flat, index) => Assert.Equal(x.Span[Map(index, input)], actual.Span[flat]));
        }
    }

    [Fact]
    public void Plan_merges_bias_row_into_runs_of_the_row_length()
    {
        var plan = BroadcastPlan.Create([2, 3, 384], [384]);
        Assert.Equal(384, plan.InnerLength);
        Assert.Equal(6, plan.RunCount);
        Assert.False(plan.IsInnerBroadcast(0));
        Assert.False(plan.IsInnerBroadcast(1));
    }

    [Fact]
    public void Plan_makes_equal_shapes_and_scalars_one_run()
    {
        var same = BroadcastPlan.Create([2, 3, 5], [2, 3, 5]);
        Assert.Equal(1, same.RunCount);
        Assert.Equal(30, same.InnerLength);
        var scalar = BroadcastPlan.Create([2, 3, 5], []);
        Assert.Equal(1, scalar.RunCount);
        Assert.True(scalar.IsInnerBroadcast(1));
    }

    [Fact]
    public void Plan_with_per_row_scalar_repeats_the_narrow_side()
    {
        var plan = BroadcastPlan.Create([4, 7, 16], [4, 7, 1]);
        Assert.Equal(16, plan.InnerLength);
        Assert.Equal(28, plan.RunCount);
        Assert.False(plan.IsInnerBroadcast(0));
        Assert.True(plan.IsInnerBroadcast(1));
    }

    private static void CheckBinary(int[] aShape, int[] bShape, Random random, int threads)
    {
        // Subtraction is not commutative, so swapped operands in any run layout would show.
        using var a = RandomFloats(aShape, random);
        using var b = RandomFloats(bShape, random);
        using var actual = Broadcast.Binary<float, float, float, ArithmeticKernel<float, SubtractOperation>>(
            a, b, new RunContext(threads), minElementsPerThread: 16);
        var expectedShape = TensorShape.Broadcast(aShape, bShape);
        Assert.Equal(expectedShape, actual.Shape.ToArray());
        ForEachIndex(expectedShape, (flat, index) =>
            Assert.Equal(a.Span[Map(index, aShape)] - b.Span[Map(index, bShape)], actual.Span[flat]));

        using var ai = RandomInts(aShape, random);
        using var bi = RandomInts(bShape, random);
        using var actualInts = Broadcast.Binary<long, long, long, ArithmeticKernel<long, SubtractOperation>>(ai, bi, new RunContext(threads));
        ForEachIndex(expectedShape, (flat, index) =>
            Assert.Equal(ai.Span[Map(index, aShape)] - bi.Span[Map(index, bShape)], actualInts.Span[flat]));
    }

    /// <summary>A random output shape and two input shapes that broadcast to it (each may drop leading dimensions or set some to 1).</summary>
    private static (int[] A, int[] B) RandomBroadcastPair(Random random)
    {
        var output = RandomShape(random, maxRank: 5);
        return (DeriveInputShape(output, random), DeriveInputShape(output, random));
    }

    private static int[] RandomShape(Random random, int maxRank)
    {
        var rank = random.Next(maxRank + 1);
        var shape = new int[rank];
        for (var d = 0; d < rank; d++) shape[d] = random.Next(20) == 0 ? 0 : random.Next(1, 6);
        return shape;
    }

    private static int[] DeriveInputShape(int[] output, Random random)
    {
        var drop = random.Next(output.Length + 1);
        if (random.Next(3) == 0) drop = 0;
        var shape = output[drop..].ToArray();
        for (var d = 0; d < shape.Length; d++)
            if (random.Next(3) == 0) shape[d] = 1;
        return shape;
    }

    private static Tensor<float> RandomFloats(int[] shape, Random random) =>
        Tensor<float>.FromArray(Enumerable.Range(0, TensorShape.Product(shape)).Select(_ => (float)(random.NextDouble() * 200 - 100)).ToArray(), shape);

    private static Tensor<long> RandomInts(int[] shape, Random random) =>
        Tensor<long>.FromArray(Enumerable.Range(0, TensorShape.Product(shape)).Select(_ => (long)random.Next(-1000, 1000)).ToArray(), shape);

    /// <summary>Calls <paramref name="check"/> with each flat output position and its multi-index.</summary>
    private static void ForEachIndex(int[] shape, Action<int, int[]> check)
    {
        var length = TensorShape.Product(shape);
        var index = new int[shape.Length];
        for (var flat = 0; flat < length; flat++)
        {
            var rest = flat;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            check(flat, index);
        }
    }

    /// <summary>The flat position in an input of the element an output index reads (numpy rules, written the slow way).</summary>
    private static int Map(int[] outputIndex, int[] inputShape)
    {
        var offset = 0;
        var skip = outputIndex.Length - inputShape.Length;
        for (var d = 0; d < inputShape.Length; d++)
        {
            var i = inputShape[d] == 1 ? 0 : outputIndex[skip + d];
            offset = offset * inputShape[d] + i;
        }
        return offset;
    }
}
