using Sparrow.Graph;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;
using Sparrow.Tensors.Sparse;
using static Sparrow.Runtime.Tests.Sparsity.SparseWeightModels;

namespace Sparrow.Runtime.Tests.Sparsity;

public class SparseKernelChoiceTests
{
    private const int K = 40, N = 23, M = 5;

    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string> { "auto", "dense" };
        foreach (var entry in SparseKernelTable.All) data.Add(entry.Name);
        return data;
    }

    private sealed record Case(string Label, Model Model, Tensor<float> X, double[] Expected);

    /// <summary>MatMul (batched and 1-D X), Gemm (transB 0/1, with and without C, and alpha/beta/transA with a full C), Linear (bias, Gelu).</summary>
    private static IEnumerable<Case> Cases(float[] w, int seed)
    {
        var random = new Random(seed);
        double Dot(float[] x, int row, int n) { double s = 0; for (var p = 0; p < K; p++) s += x[row * K + p] * (double)w[n * K + p]; return s; }

        var x3 = RandomValues(random, 2 * 3 * K);
        yield return new Case("MatMul [2,3,K]", Build("MatMul", [2, 3, K], Tensor<float>.FromArray(Transpose(w, N, K), K, N)),
            Tensor<float>.FromArray(x3, 2, 3, K), Enumerable.Range(0, 6 * N).Select(i => Dot(x3, i / N, i % N)).ToArray());
        var x1 = RandomValues(random, K);
        yield return new Case("MatMul [K]", Build("MatMul", [K], Tensor<float>.FromArray(Transpose(w, N, K), K, N)),
            Tensor<float>.FromArray(x1, K), Enumerable.Range(0, N).Select(j => Dot(x1, 0, j)).ToArray());

        foreach (var transB in new[] { 0, 1 })
        foreach (var withC in new[] { false, true })
        {
            var a = RandomValues(random, M * K);
            var c = RandomValues(random, N);
            var b = transB == 1 ? Tensor<float>.FromArray((float[])w.Clone(), N, K) : Tensor<float>.FromArray(Transpose(w, N, K), K, N);
            yield return new Case($"Gemm transB={transB} C={withC}",
                Build("Gemm", [M, K], b, withC ? Tensor<float>.FromArray(c, N) : null, attributes: NodeAttribute.Int("transB", transB)),
                Tensor<float>.FromArray(a, M, K), Enumerable.Range(0, M * N).Select(i => Dot(a, i / N, i % N) + (withC ? c[i % N] : 0)).ToArray());
        }
        {
            // alpha, beta, transA and a full C: the uncommon path.
            var aT = RandomValues(random, K * M); // stored [K, M]
            var a = Transpose(aT, K, M);          // [M, K]
            var c = RandomValues(random, M * N);
            yield return new Case("Gemm alpha beta transA full C",
                Build("Gemm", [K, M], Tensor<float>.FromArray((float[])w.Clone(), N, K), Tensor<float>.FromArray(c, M, N),
                    attributes: [NodeAttribute.Int("transA", 1), NodeAttribute.Int("transB", 1), NodeAttribute.Float("alpha", 0.5f), NodeAttribute.Float("beta", 2f)]),
                Tensor<float>.FromArray(aT, K, M), Enumerable.Range(0, M * N).Select(i => 0.5 * Dot(a, i / N, i % N) + 2 * c[i]).ToArray());
        }
        {
            var x = RandomValues(random, M * K);
            var bias = RandomValues(random, N);
            yield return new Case("Linear Gelu", Linear([M, K], w, N, K, bias, "Gelu"),
                Tensor<float>.FromArray(x, M, K), Enumerable.Range(0, M * N).Select(i => Gelu(Dot(x, i / N, i % N) + bias[i % N])).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void every_kernel_matches_the_reference_on_matmul_gemm_and_linear(string kernel)
    {
        var w = TwoOfFour(new Random(1), N, K);
        foreach (var c in Cases(w, seed: 2))
        {
            using var session = new InferenceSession(c.Model, Options(kernel));
            AssertClose(c.Expected, Run(session, c.X), $"{kernel} {c.Label}");
            var choice = Assert.Single(session.WeightKernels);
            Assert.Equal((N, K), (choice.Rows, choice.Columns));
            Assert.InRange(choice.Sparsity, 0.45, 0.55);
            if (kernel == "dense") Assert.Equal(WeightKernelSelector.DenseName, choice.Kernel);
            else if (kernel != "auto")
            {
                Assert.Equal(kernel, choice.Kernel);
                Assert.Equal(KernelChoiceSource.Forced, choice.Source);
            }
            else Assert.Equal(KernelChoiceSource.Measured, choice.Source);
            // The operator holds its own form; the session keeps no dense copy of the weight.
            Assert.False(session.Model.Graph.Initializers.ContainsKey("w"), $"{kernel} {c.Label}: dense weight still held");
            Assert.Equal(choice.Bytes + (c.Model.Graph.Initializers.ContainsKey("c") ? c.Model.Graph.Initializers["c"].Length * 4L : 0), session.WeightBytes);
        }
    }

    [Fact]
    public void auto_measures_every_candidate_that_holds_the_weight()
    {
        var w = TwoOfFour(new Random(3), N, K);
        using var session = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto"));
        var choice = Assert.Single(session.WeightKernels);
        Assert.Equal(KernelChoiceSource.Measured, choice.Source);
        Assert.Contains(choice.Timings, t => t.Kernel == WeightKernelSelector.DenseName);
        Assert.Contains(choice.Timings, t => t.Kernel == "NM 2:4");
        Assert.All(choice.Timings, t => Assert.True(t.OneRowMilliseconds > 0 && t.BatchMilliseconds > 0, t.ToString()));
        Assert.Contains(choice.Kernel, choice.Timings.Select(t => t.Kernel));
    }

    [Fact]
    public void weight_with_few_zeros_stays_dense_without_measuring()
    {
        var w = Unstructured(new Random(4), N, K, 0.1);
        using var session = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto"));
        var choice = Assert.Single(session.WeightKernels);
        Assert.Equal(KernelChoiceSource.Threshold, choice.Source);
        Assert.Equal(WeightKernelSelector.DenseName, choice.Kernel);
        Assert.Empty(choice.Timings);
    }

    [Fact]
    public void forced_sparse_kernel_leaves_a_weight_with_few_zeros_dense()
    {
        var w = Unstructured(new Random(15), N, K, 0.1);
        using var session = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("CSR"));
        var choice = Assert.Single(session.WeightKernels);
        Assert.Equal((WeightKernelSelector.DenseName, KernelChoiceSource.Threshold), (choice.Kernel, choice.Source));
        Assert.Contains("forced CSR", choice.Reason);
    }

    [Theory]
    [InlineData("NM 2:4")]
    [InlineData("nm 4:8")]
    public void forced_pattern_the_weight_breaks_falls_back_with_the_reason(string kernel)
    {
        var w = Unstructured(new Random(5), N, K, 0.5);
        var x = RandomValues(new Random(6), M * K);
        var expected = new double[M * N];
        for (var i = 0; i < M; i++)
        for (var j = 0; j < N; j++)
        for (var p = 0; p < K; p++) expected[i * N + j] += x[i * K + p] * (double)w[j * K + p];
        using var session = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options(kernel));
        AssertClose(expected, Run(session, Tensor<float>.FromArray(x, M, K)), kernel);
        var choice = Assert.Single(session.WeightKernels);
        Assert.Equal(KernelChoiceSource.Fallback, choice.Source);
        Assert.DoesNotContain("NM", choice.Kernel);
        Assert.Contains("pattern", choice.Reason);
        Assert.Contains(kernel.ToUpperInvariant()[3..], choice.Reason);
    }

    [Fact]
    public void forced_name_is_case_insensitive()
    {
        var w = Unstructured(new Random(7), N, K, 0.8);
        using var session = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("bsr 4X1"));
        Assert.Equal("BSR 4x1", Assert.Single(session.WeightKernels).Kernel);
    }

    [Fact]
    public void unknown_kernel_name_is_a_clear_error()
    {
        var w = Unstructured(new Random(8), N, K, 0.8);
        var e = Assert.Throws<ArgumentException>(() => new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("CSX")));
        Assert.Contains("'CSX'", e.Message);
        foreach (var name in new[] { "auto", "dense", "CSR", "BSR 4x4", "NM 2:4", "Bitmask" }) Assert.Contains(name, e.Message);
    }

    [Fact]
    public void second_session_reads_the_choice_from_the_cache()
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-cache-");
        try
        {
            var path = Path.Combine(folder.FullName, "sub", "kernel-choices.json");
            var w = Unstructured(new Random(9), N, K, 0.9);
            WeightKernelChoice first, second;
            using (var s = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto", path)))
                first = Assert.Single(s.WeightKernels);
            Assert.Equal(KernelChoiceSource.Measured, first.Source);
            Assert.True(File.Exists(path));
            using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)))
                Assert.Single(json.RootElement.GetProperty("choices").EnumerateObject());
            using (var s = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto", path)))
                second = Assert.Single(s.WeightKernels);
            Assert.Equal(KernelChoiceSource.Cached, second.Source);
            Assert.StartsWith("cached", second.Reason);
            Assert.Equal(first.Kernel, second.Kernel);
            Assert.Equal(first.Timings.Select(t => t.Kernel), second.Timings.Select(t => t.Kernel));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Same shape, same kept count, but one weight follows 2:4 and the other does not: they have different candidates,
    /// so the 2:4 weight must be measured (N:M kernels included), not served the unstructured weight's entry.
    /// </summary>
    [Fact]
    public void a_two_of_four_weight_does_not_reuse_the_entry_of_an_unstructured_one()
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-cache-");
        try
        {
            var path = Path.Combine(folder.FullName, "kernel-choices.json");
            var twoOfFour = TwoOfFour(new Random(12), N, K);
            // Row 0: one kept weight moved from group 1 into a zero of group 0 (3 of 4 there): same count, 2:4 broken.
            var unstructured = (float[])twoOfFour.Clone();
            var from = Enumerable.Range(4, 4).First(c => unstructured[c] != 0);
            var to = Enumerable.Range(0, 4).First(c => unstructured[c] == 0);
            (unstructured[to], unstructured[from]) = (unstructured[from], 0f);
            Assert.Equal(twoOfFour.Count(v => v != 0), unstructured.Count(v => v != 0));

            using (var s = new InferenceSession(Linear([M, K], unstructured, N, K, null, ""), Options("auto", path)))
                Assert.DoesNotContain(Assert.Single(s.WeightKernels).Timings, t => t.Kernel == "NM 2:4");
            using (var s = new InferenceSession(Linear([M, K], twoOfFour, N, K, null, ""), Options("auto", path)))
            {
                var choice = Assert.Single(s.WeightKernels);
                Assert.Equal(KernelChoiceSource.Measured, choice.Source);
                Assert.Contains(choice.Timings, t => t.Kernel == "NM 2:4");
            }
            using (var s = new InferenceSession(Linear([M, K], twoOfFour, N, K, null, ""), Options("auto", path)))
                Assert.Equal(KernelChoiceSource.Cached, Assert.Single(s.WeightKernels).Source);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>A save waits for the lock file another process holds (and, after the timeout, gives up rather than lose that process's entries).</summary>
    [Fact]
    public void saving_honours_the_lock_another_process_holds()
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-cache-");
        var timeout = KernelChoiceCache.LockTimeout;
        try
        {
            var path = Path.Combine(folder.FullName, "kernel-choices.json");
            var w = Unstructured(new Random(13), N, K, 0.9);
            KernelChoiceCache.LockTimeout = TimeSpan.FromMilliseconds(100);
            using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            using (new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto", path))) { }
            Assert.False(File.Exists(path));
            using (new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto", path))) { }
            Assert.True(File.Exists(path));
        }
        finally
        {
            KernelChoiceCache.LockTimeout = timeout;
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"format\": 99, \"choices\": {}}")]
    [InlineData("{\"format\": 1, \"choices\": {\"x\": null}}")]
    [InlineData("")]
    public void corrupt_cache_is_ignored_and_rewritten(string content)
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-cache-");
        try
        {
            var path = Path.Combine(folder.FullName, "kernel-choices.json");
            File.WriteAllText(path, content);
            var w = Unstructured(new Random(10), N, K, 0.9);
            using (var s = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto", path)))
                Assert.Equal(KernelChoiceSource.Measured, Assert.Single(s.WeightKernels).Source);
            using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)))
                Assert.Equal(1, json.RootElement.GetProperty("format").GetInt32());
            using (var s = new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("auto", path)))
                Assert.Equal(KernelChoiceSource.Cached, Assert.Single(s.WeightKernels).Source);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void forced_and_fallback_choices_are_not_cached()
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-cache-");
        try
        {
            var path = Path.Combine(folder.FullName, "kernel-choices.json");
            var w = Unstructured(new Random(11), N, K, 0.9);
            using (new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("CSR", path))) { }
            using (new InferenceSession(Linear([M, K], w, N, K, null, ""), Options("NM 2:4", path))) { }
            Assert.False(File.Exists(path));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void weight_read_by_another_node_stays_held_and_shared_weight_is_prepared_once()
    {
        var w = Unstructured(new Random(12), N, K, 0.9);
        var graph = new ModelGraph { Name = "shared" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [Dimension.Fixed(M), Dimension.Fixed(K)]));
        graph.Initializers["w"] = Tensor<float>.FromArray(Transpose(w, N, K), K, N);
        graph.Nodes.Add(new Node("MatMul", ["x", "w"], ["y1"], "first"));
        graph.Nodes.Add(new Node("MatMul", ["x", "w"], ["y2"], "second"));
        graph.Nodes.Add(new Node("Transpose", ["w"], ["wt"], "reads_w"));
        foreach (var o in new[] { "y1", "y2", "wt" }) graph.Outputs.Add(new ValueInfo(o, DataType.Undefined, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        using var session = new InferenceSession(model, Options("CSR"));
        Assert.Equal(2, session.WeightKernels.Count);
        Assert.True(session.Model.Graph.Initializers.ContainsKey("w"));
        Assert.Equal(session.WeightKernels[0].Bytes + (long)N * K * 4, session.WeightBytes);
        var x = RandomValues(new Random(13), M * K);
        var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, M, K) });
        var expected = new double[M * N];
        for (var i = 0; i < M; i++)
        for (var j = 0; j < N; j++)
        for (var p = 0; p < K; p++) expected[i * N + j] += x[i * K + p] * (double)w[j * K + p];
        AssertClose(expected, outputs["y1"].As<float>().Span.ToArray(), "first");
        AssertClose(expected, outputs["y2"].As<float>().Span.ToArray(), "second");
        foreach (var t in outputs.Values) t.Dispose();
    }

    [Fact]
    public void sparse_weight_at_90_percent_holds_at_most_a_quarter_of_the_dense_bytes()
    {
        const int n = 256, k = 384;
        var w = Unstructured(new Random(14), n, k, 0.9);
        foreach (var kernel in new[] { "CSR", "Bitmask" })
        {
            using var session = new InferenceSession(Linear([M, k], w, n, k, null, ""), Options(kernel));
            var choice = Assert.Single(session.WeightKernels);
            Assert.Equal((long)n * k * 4, choice.DenseBytes);
            Assert.True(session.WeightBytes <= choice.DenseBytes / 4, $"{kernel}: {session.WeightBytes} bytes held, dense {choice.DenseBytes}");
        }
        using var dense = new InferenceSession(Linear([M, k], w, n, k, null, ""), Options("dense"));
        // Dense keeps its packed copy only, not the initializer too.
        Assert.InRange(dense.WeightBytes, (long)n * k * 4, (long)n * k * 4 * 5 / 4);
    }
}
