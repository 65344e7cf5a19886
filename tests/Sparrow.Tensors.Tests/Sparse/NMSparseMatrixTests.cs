using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;
using static Sparrow.Tensors.Tests.Sparse.NMAndBitmaskReference;

namespace Sparrow.Tensors.Tests.Sparse;

public class NMSparseMatrixTests
{
    public static TheoryData<int, int> Patterns => new() { { 2, 4 }, { 4, 8 }, { 1, 4 }, { 3, 8 }, { 1, 2 }, { 2, 3 }, { 5, 16 }, { 16, 16 } };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Multiply_MatchesDenseReference_OverShapes(int n, int groupLength)
    {
        var random = new Random(1000 + n * 17 + groupLength);
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
                var dense = RandomNM(random, rows, columns, n, groupLength);
                var matrix = NMSparseMatrix.FromDense(dense, rows, columns, n, groupLength);
                Check(dense, rows, columns, m, withBias, activation, index,
                    (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, threads, width),
                    $"{n}:{groupLength} {rows}x{columns} m={m} width={width} threads={threads} {activation} bias={withBias}");
            }
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Multiply_EveryRowCountAndWidth(int n, int groupLength)
    {
        var random = new Random(7 + n);
        foreach (var (rows, columns) in new[] { (33, 65), (17, 100), (64, 31) })
        {
            var dense = RandomNM(random, rows, columns, n, groupLength);
            var matrix = NMSparseMatrix.FromDense(dense, rows, columns, n, groupLength);
            foreach (var m in RowCounts)
                foreach (var width in VectorWidths)
                    foreach (var threads in new[] { 1, 2 })
                        Check(dense, rows, columns, m, true, FusedActivation.Relu, m * 31 + width,
                            (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, threads, width),
                            $"{n}:{groupLength} {rows}x{columns} m={m} width={width} threads={threads}");
        }
    }

    [Fact]
    public void Multiply_LargeEnoughToSplitAcrossThreads()
    {
        var random = new Random(5);
        var dense = RandomNM(random, 300, 512, 2, 4);
        var matrix = NMSparseMatrix.FromDense(dense, 300, 512, 2, 4);
        foreach (var m in new[] { 1, 8, 40 })
            Check(dense, 300, 512, m, true, FusedActivation.Gelu, m,
                (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, 2), $"m={m}");
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    [InlineData(1, 4)]
    [InlineData(3, 8)]
    [InlineData(5, 16)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    public void FromDense_ToDense_RoundTrips(int n, int groupLength)
    {
        var random = new Random(n * 100 + groupLength);
        foreach (var (rows, columns) in new[] { (0, 0), (1, 1), (3, 7), (16, 17), (33, 65), (5, 257) })
        {
            var dense = RandomNM(random, rows, columns, n, groupLength);
            var matrix = NMSparseMatrix.FromDense(dense, rows, columns, n, groupLength);
            Assert.Equal(dense, matrix.ToDense());
            var groups = (columns + groupLength - 1) / groupLength;
            Assert.Equal((long)rows * groups * n, matrix.StoredValues);
            var bitsPerPosition = groupLength <= 2 ? 1 : groupLength <= 4 ? 2 : 4;
            var words = ((long)groups * n * bitsPerPosition + 63) / 64;
            Assert.Equal(matrix.StoredValues * 4 + rows * words * 8, matrix.SizeInBytes);
            Assert.Equal(SparseFormat.NM, matrix.Format);
        }
    }

    [Fact]
    public void FromDense_WithMask_KeepsMaskedZerosAndDropsUnmasked()
    {
        float[] dense = [1, 2, 3, 4, 5, 6, 7, 8];
        bool[] mask = [false, true, false, true, true, false, false, false];
        var matrix = NMSparseMatrix.FromDense(dense, 2, 4, 2, 4, mask);
        Assert.Equal(new float[] { 0, 2, 0, 4, 5, 0, 0, 0 }, matrix.ToDense());
    }

    [Fact]
    public void FromDense_RefusesViolationNamingRowAndGroup()
    {
        var dense = new float[2 * 8];
        dense[8 + 4] = 1;
        dense[8 + 5] = 2;
        dense[8 + 7] = 3;
        var error = Assert.Throws<ArgumentException>(() => NMSparseMatrix.FromDense(dense, 2, 8, 2, 4));
        Assert.Contains("row 1, group 1", error.Message);
        Assert.Contains("keeps 3 values", error.Message);

        var mask = new bool[16];
        mask[0] = mask[1] = mask[2] = true;
        error = Assert.Throws<ArgumentException>(() => NMSparseMatrix.FromDense(new float[16], 2, 8, 2, 4, mask));
        Assert.Contains("row 0, group 0", error.Message);
    }

    [Fact]
    public void FromDense_RefusesFullLastPartialGroupBeyondN()
    {
        float[] dense = [1, 0, 0, 0, 1, 1, 1];
        var error = Assert.Throws<ArgumentException>(() => NMSparseMatrix.FromDense(dense, 1, 7, 2, 4));
        Assert.Contains("row 0, group 1 (columns 4 to 6)", error.Message);
    }

    [Fact]
    public void FromDense_RefusesBadPatterns()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NMSparseMatrix.FromDense(new float[4], 1, 4, 2, 17));
        Assert.Throws<ArgumentOutOfRangeException>(() => NMSparseMatrix.FromDense(new float[4], 1, 4, 5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => NMSparseMatrix.FromDense(new float[4], 1, 4, 0, 4));
    }
}
