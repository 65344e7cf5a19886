using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Tensors.Tests.Sparse;

public class BsrMatrixTests
{
    [Fact]
    public void KeepsABlockWhenAnyElementIsKeptAndPadsEdges()
    {
        // 3 x 5 with 2x2 blocks: 2 block rows, 3 block columns; kept elements at (0,0), (2,4).
        var dense = new float[15];
        dense[0] = 1; dense[2 * 5 + 4] = 2;
        var w = BsrMatrix.FromDense(dense, 3, 5, 2, 2);
        Assert.Equal(2, w.StoredBlocks);
        Assert.Equal(8, w.StoredValues);
        Assert.Equal(8 * 4 + 3 * 4 + 2 * 4, w.SizeInBytes);
        Assert.Equal("BSR 2x2", w.Description);
        Assert.Equal(dense, w.ToDense());
        var x = new float[] { 1, 2, 3, 4, 5 };
        var y = Enumerable.Repeat(float.NaN, 3).ToArray();
        w.Multiply(x, 1, y, new float[] { 0.5f, 0, 0 }, FusedActivation.None, 1);
        Assert.Equal(new float[] { 1.5f, 0, 10 }, y);
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(4, 1)]
    [InlineData(4, 4)]
    [InlineData(8, 1)]
    [InlineData(16, 1)]
    public void RequiredShapesMatchReferenceOnOddSizes(int blockRows, int blockColumns)
    {
        var random = new Random(blockRows * 100 + blockColumns);
        foreach (var (rows, columns) in new[] { (37, 45), (16, 64), (1, 3), (19, 1) })
        {
            var (dense, _, effective) = KernelTableTests.RandomMatrix(random, rows, columns, 0.8, false);
            var w = BsrMatrix.FromDense(dense, rows, columns, blockRows, blockColumns);
            Assert.Equal(effective, w.ToDense());
            foreach (var m in new[] { 1, 4, 20 })
            {
                var x = Enumerable.Range(0, m * columns).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                var bias = Enumerable.Range(0, rows).Select(_ => (float)random.NextDouble()).ToArray();
                var y = Enumerable.Repeat(float.NaN, m * rows).ToArray();
                w.Multiply(x, m, y, bias, FusedActivation.Relu, 2);
                KernelTableTests.AssertClose(KernelTableTests.Reference(effective, rows, columns, x, m, bias, FusedActivation.Relu), y, $"{blockRows}x{blockColumns} {rows}x{columns} m={m}");
            }
        }
    }

    [Fact]
    public void RejectsBadBlockShapes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BsrMatrix.FromDense(new float[4], 2, 2, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BsrMatrix.FromDense(new float[4], 2, 2, 1, 65));
    }
}
