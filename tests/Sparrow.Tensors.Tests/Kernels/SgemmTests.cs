using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

public class SgemmTests
{
    public static TheoryData<string> Isas()
    {
        var data = new TheoryData<string>();
        foreach (var isa in GemmConfig.Available()) data.Add(isa.ToString());
        return data;
    }

    private static GemmConfig Config(string isa) => GemmConfig.For(Enum.Parse<GemmIsa>(isa));

    // Sizes around every tile edge: below, at and past MR (4, 8) and NR (2, 8, 16, 32), and depths across KC (256, 384).
    private static readonly int[] Rows = [0, 1, 3, 4, 5, 7, 8, 9, 13, 17, 33, 130];
    private static readonly int[] Columns = [0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100];
    private static readonly int[] Depths = [0, 1, 2, 7, 16, 31, 255, 257, 385, 800];

    /// <summary>Runs one case through the kernel and the reference; C starts as NaN when beta = 0 (never read).</summary>
    private static void Check(GemmConfig config, int m, int n, int k, bool transA, bool transB, float alpha, float beta,
        bool columnBias, bool rowBias, FusedActivation activation, int threads, int seed, int pad = 0, bool packed = false)
    {
        var random = new Random(seed);
        var lda = (transA ? m : k) + pad;
        var ldb = (transB ? k : n) + pad;
        var ldc = n + pad;
        var a = GemmReference.Random(random, Math.Max(0, (transA ? k : m) * lda));
        var b = GemmReference.Random(random, Math.Max(0, (transB ? n : k) * ldb));
        var c = beta == 0 ? Enumerable.Repeat(float.NaN, m * ldc).ToArray() : GemmReference.Random(random, m * ldc);
        // Gap columns hold a sentinel that must survive.
        for (var i = 0; i < m; i++) for (var j = n; j < ldc; j++) c[i * ldc + j] = -12345f;
        var biasN = columnBias ? GemmReference.Random(random, n) : null;
        var biasM = rowBias ? GemmReference.Random(random, m) : null;
        var before = (float[])c.Clone();
        var (expected, magnitudes) = GemmReference.Multiply(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, biasN, biasM, activation);
        if (packed)
        {
            var pm = PackedMatrix.Pack(config, b, k, n, ldb, transB, threads);
            Sgemm.Multiply(m, a, lda, transA, pm, c, ldc, alpha, beta, biasN, biasM, activation, threads);
        }
        else
        {
            Sgemm.Multiply(config, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, biasN, biasM, activation, threads);
        }
        var label = $"{config.Isa} m={m} n={n} k={k} transA={transA} transB={transB} alpha={alpha} beta={beta} " +
                    $"colBias={columnBias} rowBias={rowBias} {activation} threads={threads} pad={pad} packed={packed}";
        GemmReference.AssertClose(label, m, n, ldc, c, expected, magnitudes, before);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void matches_naive_over_all_tile_edges(string isa)
    {
        var config = Config(isa);
        var seed = 1;
        foreach (var m in Rows)
        foreach (var n in Columns)
        foreach (var k in Depths)
            Check(config, m, n, k, false, false, 1f, 0f, false, false, FusedActivation.None, 1, seed++);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void transposes_alpha_beta_and_padding(string isa)
    {
        var config = Config(isa);
        var seed = 100;
        int[] sizes = [1, 5, 9, 33, 70];
        foreach (var transA in new[] { false, true })
        foreach (var transB in new[] { false, true })
        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 0f), (1f, 1f), (-2f, 0.75f) })
        foreach (var m in sizes)
        foreach (var n in sizes)
        foreach (var k in new[] { 1, 17, 300 })
            Check(config, m, n, k, transA, transB, alpha, beta, false, false, FusedActivation.None, 1, seed++, pad: (m + n + k) % 3);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void bias_and_activation_fused(string isa)
    {
        var config = Config(isa);
        var seed = 1000;
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Gelu })
        foreach (var (columnBias, rowBias) in new[] { (true, false), (false, true), (true, true) })
        foreach (var beta in new[] { 0f, 1f })
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 5), (9, 17, 257), (33, 64, 513), (3, 5, 0) })
            Check(config, m, n, k, false, false, 1f, beta, columnBias, rowBias, activation, 1, seed++);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void two_threads_match(string isa)
    {
        var config = Config(isa);
        var seed = 2000;
        foreach (var (m, n, k) in new[] { (1, 300, 100), (3, 70, 64), (130, 65, 257), (257, 33, 80), (64, 1000, 64), (200, 200, 600), (33, 512, 256), (17, 40, 9) })
        foreach (var transB in new[] { false, true })
            Check(config, m, n, k, false, transB, 1f, 0f, true, false, FusedActivation.Gelu, 2, seed++);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void prepacked_b_matches(string isa)
    {
        var config = Config(isa);
        var seed = 3000;
        foreach (var (m, n, k) in new[] { (0, 5, 5), (1, 1, 1), (5, 0, 3), (4, 3, 0), (17, 33, 31), (130, 100, 513), (8, 384, 384) })
        foreach (var transB in new[] { false, true })
        foreach (var threads in new[] { 1, 2 })
            Check(config, m, n, k, false, transB, 1f, 0f, true, false, FusedActivation.Relu, threads, seed++, packed: true);
    }

    [Fact]
    public void k_eq_0_writes_beta_c_plus_bias()
    {
        var c = new[] { 1f, 2f, 3f, 4f };
        Sgemm.Multiply(2, 2, 0, [], 1, false, [], 2, false, c, 2, beta: 2f, columnBias: new[] { 10f, 20f });
        Assert.Equal(new[] { 12f, 24f, 16f, 28f }, c);
    }

    [Fact]
    public void rejects_spans_too_small()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(2, 2, 2, new float[3], 2, false, new float[4], 2, false, new float[4], 2));
        Assert.Contains("A has 3 elements", ex.Message);
        Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(2, 2, 2, new float[4], 1, false, new float[4], 2, false, new float[4], 2));
        Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(2, 2, 2, new float[4], 2, false, new float[4], 2, false, new float[4], 2, columnBias: new float[1]));
    }

    [Fact]
    public void gelu_matches_exact_erf_including_the_tail()
    {
        var xs = new float[2001];
        for (var i = 0; i < xs.Length; i++) xs[i] = -10f + i * 0.01f;
        var ys = (float[])xs.Clone();
        Activations.Apply(ys, FusedActivation.Gelu);
        for (var i = 0; i < xs.Length; i++)
        {
            var expected = GemmReference.Gelu(xs[i]);
            Assert.True(Math.Abs(ys[i] - expected) <= 1e-6 * (1 + xs[i] * xs[i]) * Math.Abs(expected) + 1e-30,
                $"gelu({xs[i]}) = {ys[i]}, expected {expected}");
        }
    }
}
