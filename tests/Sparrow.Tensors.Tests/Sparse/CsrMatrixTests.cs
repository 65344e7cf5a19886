using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Tensors.Tests.Sparse;

public class CsrMatrixTests
{
    [Fact]
    public void SizeInBytesCountsValuesIndicesAndRowPointers()
    {
        float[] dense = [1, 0, 2, 0, 0, 0, 0, 3, 4];
        var w = CsrMatrix.FromDense(dense, 3, 3);
        Assert.Equal(4, w.StoredValues);
        Assert.True(w.UsesNarrowIndices);
        Assert.Equal(4 * 4 + 4 * 2 + 4 * 4, w.SizeInBytes);
        Assert.Equal(dense, w.ToDense());
    }

    [Fact]
    public void MaskKeepsStoredZerosAndPrunesMaskedValues()
    {
        float[] dense = [1, 5, 0, 2];
        bool[] mask = [true, false, true, true];
        var w = CsrMatrix.FromDense(dense, 2, 2, mask);
        Assert.Equal(3, w.StoredValues);
        Assert.Equal(new float[] { 1, 0, 0, 2 }, w.ToDense());
    }

    [Fact]
    public void WideMatrixUses32BitIndices()
    {
        const int columns = 70001;
        var random = new Random(3);
        var (dense, _, effective) = KernelTableTests.RandomMatrix(random, 3, columns, 0.99, false);
        dense[columns - 1] = 0.5f; effective[columns - 1] = 0.5f; // an index past 65535
        var w = CsrMatrix.FromDense(dense, 3, columns);
        Assert.False(w.UsesNarrowIndices);
        Assert.Equal(w.StoredValues * 8 + 4 * 4, w.SizeInBytes);
        Assert.Equal(effective, w.ToDense());
        foreach (var m in new[] { 1, 5 })
        {
            var x = Enumerable.Range(0, m * columns).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var y = Enumerable.Repeat(float.NaN, m * 3).ToArray();
            w.Multiply(x, m, y, default, FusedActivation.None, 2);
            KernelTableTests.AssertClose(KernelTableTests.Reference(effective, 3, columns, x, m, null, FusedActivation.None), y, $"m={m}");
        }
    }

    [Fact]
    public void RejectsShortBuffers()
    {
        var w = CsrMatrix.FromDense(new float[] { 1, 2, 3, 4 }, 2, 2);
        Assert.Throws<ArgumentException>(() => w.Multiply(new float[3], 2, new float[4], default, FusedActivation.None, 1));
        Assert.Throws<ArgumentException>(() => w.Multiply(new float[4], 2, new float[3], default, FusedActivation.None, 1));
        Assert.Throws<ArgumentException>(() => w.Multiply(new float[4], 2, new float[4], new float[1], FusedActivation.None, 1));
        Assert.Throws<ArgumentException>(() => CsrMatrix.FromDense(new float[3], 2, 2));
    }
}

public class CsrWorkSplitTests
{
    [Fact]
    public void SplitsRowsByNonZerosNotByRowCount()
    {
        // Row 0 holds 1000 non-zeros, rows 1..99 one each: two parts must not be 50 rows each.
        var pointers = new int[101];
        pointers[1] = 1000;
        for (var r = 2; r <= 100; r++) pointers[r] = pointers[r - 1] + 1;
        var bounds = CsrKernelSupport.SplitByNonZeros(pointers, 100, 2);
        Assert.Equal(new[] { 0, 1, 100 }, bounds);
    }

    [Fact]
    public void CoversEveryRowOnceWithSortedBounds()
    {
        var random = new Random(5);
        foreach (var rows in new[] { 0, 1, 2, 7, 100 })
            foreach (var parts in new[] { 1, 3, 8, 200 })
            {
                var pointers = new int[rows + 1];
                for (var r = 0; r < rows; r++) pointers[r + 1] = pointers[r] + (random.Next(3) == 0 ? 0 : random.Next(50));
                var bounds = CsrKernelSupport.SplitByNonZeros(pointers, rows, parts);
                Assert.Equal(0, bounds[0]);
                Assert.Equal(rows, bounds[^1]);
                for (var i = 1; i < bounds.Length; i++) Assert.True(bounds[i] >= bounds[i - 1]);
                Assert.True(bounds.Length - 1 <= Math.Max(1, Math.Min(parts, rows)));
            }
    }
}
