using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Tensors.Tests.Sparse;

/// <summary>What the kernel table's reference test does not reach: the padding's sentinel column and 32-bit indices.</summary>
public class InterleavedCsrMatrixTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(128)]
    [InlineData(1)]
    public void PaddingNeverReadsX_SoAnInfiniteInputOnlyReachesTheRowsThatUseIt(int widthLimit)
    {
        // Row 0 keeps 40 weights, the other rows of its group far fewer: they are padded with 30+ entries.
        const int Rows = 11, Columns = 64;
        var random = new Random(3);
        var dense = new float[Rows * Columns];
        for (var c = 0; c < 40; c++) dense[c] = (float)(random.NextDouble() + 0.5);
        for (var r = 1; r < Rows; r++) dense[r * Columns + 1 + r] = r;
        var w = InterleavedCsrMatrix.FromDense(dense, Rows, Columns);
        Assert.True(w.StoredValues > w.KeptValues);
        var x = Enumerable.Range(0, Columns).Select(i => (float)i / Columns).ToArray();
        x[0] = float.PositiveInfinity; // used by row 0 only
        x[Columns - 1] = float.NaN;     // used by no row
        var y = Enumerable.Repeat(float.NaN, Rows).ToArray();
        CsrKernelSupport.WidthLimitForTests = widthLimit;
        try
        {
            w.Multiply(x, 1, y, default, FusedActivation.None, 2);
        }
        finally
        {
            CsrKernelSupport.WidthLimitForTests = 0;
        }
        Assert.Equal(float.PositiveInfinity, y[0]);
        for (var r = 1; r < Rows; r++) Assert.Equal(r * x[1 + r], y[r], 5);
    }

    [Fact]
    public void WideMatricesUse32BitIndices()
    {
        const int Rows = 9, Columns = 70_000;
        var random = new Random(5);
        var (dense, mask, effective) = KernelTableTests.RandomMatrix(random, Rows, Columns, 0.995, useMask: true);
        var w = InterleavedCsrMatrix.FromDense(dense, Rows, Columns, mask);
        Assert.Contains("32-bit", w.Description);
        Assert.Equal(effective, w.ToDense());
        foreach (var m in new[] { 1, 3 })
        foreach (var width in new[] { 0, 256, 128, 1 })
        {
            var x = Enumerable.Range(0, m * Columns).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var bias = Enumerable.Range(0, Rows).Select(_ => (float)random.NextDouble()).ToArray();
            var expected = KernelTableTests.Reference(effective, Rows, Columns, x, m, bias, FusedActivation.Relu);
            var y = Enumerable.Repeat(float.NaN, m * Rows).ToArray();
            CsrKernelSupport.WidthLimitForTests = width;
            try
            {
                w.Multiply(x, m, y, bias, FusedActivation.Relu, 2);
            }
            finally
            {
                CsrKernelSupport.WidthLimitForTests = 0;
            }
            KernelTableTests.AssertClose(expected, y, $"m={m} width={width}");
        }
    }
}
