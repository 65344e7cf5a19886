using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

public unsafe class MatrixTransposeTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MatchesElementByElementTranspose(bool useVectors)
    {
        var random = new Random(5);
        foreach (var rows in new[] { 0, 1, 7, 8, 9, 16, 17, 31, 64 })
            foreach (var columns in new[] { 0, 1, 5, 8, 15, 16, 24, 33 })
            {
                // Strides wider than the block, so writing outside it would show.
                long srcStride = columns + 3, dstStride = rows + 5;
                var src = Enumerable.Range(0, (int)(rows * srcStride)).Select(_ => (float)random.NextDouble()).ToArray();
                var dst = Enumerable.Repeat(float.NaN, (int)(columns * dstStride) + 1).ToArray();
                fixed (float* ps = src)
                fixed (float* pd = dst)
                    MatrixTranspose.Transpose(ps, srcStride, pd, dstStride, rows, columns, useVectors);
                for (var j = 0; j < columns; j++)
                {
                    for (var i = 0; i < rows; i++) Assert.Equal(src[i * srcStride + j], dst[j * dstStride + i]);
                    for (var i = rows; i < dstStride && j * dstStride + i < dst.Length; i++) Assert.True(float.IsNaN(dst[j * dstStride + i]), $"wrote past row {j} ({rows}x{columns})");
                }
                Assert.True(float.IsNaN(dst[^1]));
            }
    }
}
