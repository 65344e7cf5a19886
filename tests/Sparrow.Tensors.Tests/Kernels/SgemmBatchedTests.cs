using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

public class SgemmBatchedTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, false, false, 1)]
    [InlineData(3, 5, 7, 9, false, false, 1)]
    [InlineData(3, 5, 7, 9, true, true, 2)]
    [InlineData(96, 16, 16, 8, false, true, 2)]
    [InlineData(5, 33, 17, 40, true, false, 2)]
    [InlineData(4, 0, 3, 3, false, false, 2)]
    [InlineData(4, 3, 3, 0, false, false, 2)]
    [InlineData(2, 130, 70, 300, false, false, 2)]
    [InlineData(3, 130, 70, 300, false, false, 2)]
    public void strided_batch_matches_each_product(int batch, int m, int n, int k, bool transA, bool transB, int threads)
    {
        var random = new Random(batch * 1000 + m * 100 + n * 10 + k);
        var strideA = m * k + 3;
        var strideB = k * n + 1;
        var strideC = m * n + 2;
        var a = GemmReference.Random(random, batch * strideA);
        var b = GemmReference.Random(random, batch * strideB);
        var c = Enumerable.Repeat(float.NaN, batch * strideC).ToArray();
        var lda = transA ? m : k;
        var ldb = transB ? k : n;
        Sgemm.MultiplyBatched(batch, m, n, k, a, lda, transA, strideA, b, ldb, transB, strideB, c, n, strideC, maxThreads: threads);
        for (var i = 0; i < batch; i++)
        {
            var ai = a.AsSpan(i * strideA, m * k).ToArray();
            var bi = b.AsSpan(i * strideB, k * n).ToArray();
            var ci = c.AsSpan(i * strideC, m * n).ToArray();
            var (expected, magnitudes) = GemmReference.Multiply(m, n, k, ai, lda, transA, bi, ldb, transB, new float[m * n], n,
                1f, 0f, null, null, FusedActivation.None);
            GemmReference.AssertClose($"item {i}", m, n, n, ci, expected, magnitudes, ci);
            // The gap after each product is never written.
            for (var g = m * n; g < strideC && i * strideC + g < c.Length; g++) Assert.True(float.IsNaN(c[i * strideC + g]));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void offsets_broadcast_one_operand(int threads)
    {
        // A: 2 matrices used as [0, 1, 0, 1, 0, 1]; B: 3 matrices each used twice, as numpy broadcasts [2,1] x [1,3].
        const int m = 6, n = 5, k = 4;
        var random = new Random(7);
        var a = GemmReference.Random(random, 2 * m * k);
        var b = GemmReference.Random(random, 3 * k * n);
        var c = new float[6 * m * n];
        int[] offsetsA = [0, 0, 0, m * k, m * k, m * k];
        int[] offsetsB = [0, k * n, 2 * k * n, 0, k * n, 2 * k * n];
        int[] offsetsC = Enumerable.Range(0, 6).Select(i => i * m * n).ToArray();
        Sgemm.MultiplyBatched(6, m, n, k, a, k, false, offsetsA, b, n, false, offsetsB, c, n, offsetsC, maxThreads: threads);
        for (var i = 0; i < 6; i++)
        {
            var (expected, magnitudes) = GemmReference.Multiply(m, n, k, a.AsSpan(offsetsA[i], m * k).ToArray(), k, false,
                b.AsSpan(offsetsB[i], k * n).ToArray(), n, false, new float[m * n], n, 1f, 0f, null, null, FusedActivation.None);
            var ci = c.AsSpan(offsetsC[i], m * n).ToArray();
            GemmReference.AssertClose($"item {i}", m, n, n, ci, expected, magnitudes, ci);
        }
    }

    [Fact]
    public void rejects_offsets_past_the_end()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sgemm.MultiplyBatched(2, 2, 2, 2, new float[8], 2, false, 4,
            new float[7], 2, false, 4, new float[8], 2, 4));
        Assert.Contains("B[1]", ex.Message);
    }
}
