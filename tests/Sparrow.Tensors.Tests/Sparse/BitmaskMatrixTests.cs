using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;
using static Sparrow.Tensors.Tests.Sparse.NMAndBitmaskReference;

namespace Sparrow.Tensors.Tests.Sparse;

public class BitmaskMatrixTests
{
    public static TheoryData<double> Sparsities => new() { 0, 0.5, 0.9, 0.99, 1.0 };

    [Theory]
    [MemberData(nameof(Sparsities))]
    public void Multiply_MatchesDenseReference_OverShapes(double sparsity)
    {
        var random = new Random(2000 + (int)(sparsity * 100));
        var index = 0;
        foreach (var rows in Sizes)
            foreach (var columns in Sizes)
            {
                index++;
                var m = RowCounts[index % RowCounts.Length];
                var width = VectorWidths[index / 3 % VectorWidths.Length];
                var threads = index % 2 + 1;
                var activation = ActivationsToTest[index % 3];
                var withBias = index % 4 < 2;
                var dense = RandomUnstructured(random, rows, columns, sparsity);
                var matrix = BitmaskMatrix.FromDense(dense, rows, columns);
                Check(dense, rows, columns, m, withBias, activation, index,
                    (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, threads, width),
                    $"{sparsity} {rows}x{columns} m={m} width={width} threads={threads} {activation} bias={withBias}");
            }
    }

    [Theory]
    [MemberData(nameof(Sparsities))]
    public void Multiply_EveryRowCountAndWidth(double sparsity)
    {
        var random = new Random(11);
        foreach (var (rows, columns) in new[] { (33, 65), (17, 100), (64, 31), (7, 257) })
        {
            var dense = RandomUnstructured(random, rows, columns, sparsity);
            // All-zero rows and columns, whatever the sparsity.
            for (var c = 0; c < columns; c++) dense[2 * columns + c] = 0;
            for (var r = 0; r < rows; r++) dense[r * columns + 5] = 0;
            var matrix = BitmaskMatrix.FromDense(dense, rows, columns);
            foreach (var m in RowCounts)
                foreach (var width in VectorWidths)
                    foreach (var threads in new[] { 1, 2 })
                        Check(dense, rows, columns, m, true, FusedActivation.Gelu, m * 31 + width,
                            (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, threads, width),
                            $"{sparsity} {rows}x{columns} m={m} width={width} threads={threads}");
        }
    }

    [Fact]
    public void Multiply_ExpandLoadAndFallbacksAgree()
    {
        var random = new Random(9);
        var dense = RandomUnstructured(random, 100, 333, 0.7);
        var matrix = BitmaskMatrix.FromDense(dense, 100, 333);
        var x = RandomValues(random, 333);
        var bias = RandomValues(random, 100);
        var results = new List<float[]>();
        foreach (var width in VectorWidths)
        {
            var y = new float[100];
            Array.Fill(y, float.NaN);
            matrix.Multiply(x, 1, y, bias, FusedActivation.None, 1, width);
            results.Add(y);
        }
        // Different widths sum in different orders, so they agree to rounding, not bit for bit.
        for (var i = 1; i < results.Count; i++)
            for (var r = 0; r < 100; r++)
                Assert.True(Math.Abs(results[0][r] - results[i][r]) <= 1e-4f * (1 + Math.Abs(results[0][r])),
                    $"width {VectorWidths[i]} row {r}: {results[i][r]} vs {results[0][r]}");
    }

    [Fact]
    public void Multiply_LargeEnoughToSplitAcrossThreads()
    {
        var random = new Random(6);
        var dense = RandomUnstructured(random, 300, 700, 0.9);
        for (var c = 0; c < 700; c++) dense[c] = 1; // one dense row makes equal row ranges unequal in work
        var matrix = BitmaskMatrix.FromDense(dense, 300, 700);
        foreach (var m in new[] { 1, 8, 40 })
            Check(dense, 300, 700, m, true, FusedActivation.Relu, m,
                (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, 2), $"m={m}");
    }

    [Theory]
    [MemberData(nameof(Sparsities))]
    public void FromDense_ToDense_RoundTrips(double sparsity)
    {
        var random = new Random(4);
        foreach (var (rows, columns) in new[] { (0, 0), (0, 5), (5, 0), (1, 1), (3, 7), (16, 64), (33, 65), (5, 257) })
        {
            var dense = RandomUnstructured(random, rows, columns, sparsity);
            var matrix = BitmaskMatrix.FromDense(dense, rows, columns);
            Assert.Equal(dense, matrix.ToDense());
            var kept = dense.Count(v => v != 0);
            Assert.Equal(kept, matrix.StoredValues);
            Assert.Equal(kept * 4L + rows * ((columns + 63) / 64) * 8L + (rows + 1) * 4L, matrix.SizeInBytes);
            Assert.Equal(SparseFormat.Bitmask, matrix.Format);
        }
    }

    [Fact]
    public void FromDense_WithMask_KeepsMaskedZerosAndDropsUnmasked()
    {
        float[] dense = [1, 0, 3, 4];
        bool[] mask = [false, true, true, false];
        var matrix = BitmaskMatrix.FromDense(dense, 2, 2, mask);
        Assert.Equal(2, matrix.StoredValues);
        Assert.Equal(new float[] { 0, 0, 3, 0 }, matrix.ToDense());
    }

    [Fact]
    public void Multiply_RefusesShortBuffers()
    {
        var matrix = BitmaskMatrix.FromDense(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Throws<ArgumentException>(() => matrix.Multiply(new float[5], 2, new float[4], default, FusedActivation.None, 1));
        Assert.Throws<ArgumentException>(() => matrix.Multiply(new float[6], 2, new float[3], default, FusedActivation.None, 1));
        Assert.Throws<ArgumentException>(() => matrix.Multiply(new float[6], 2, new float[4], new float[3], FusedActivation.None, 1));
    }
}
