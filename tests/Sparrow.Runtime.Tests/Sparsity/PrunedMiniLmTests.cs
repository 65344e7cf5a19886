using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;
using Sparrow.Tensors.Sparse;
using Xunit.Abstractions;

namespace Sparrow.Runtime.Tests.Sparsity;

/// <summary>all-MiniLM-L6-v2 with every encoder Linear magnitude-pruned to 90%, run with each kernel choice against dense.</summary>
public class PrunedMiniLmTests
{
    private const int Batch = 1, Sequence = 8;
    private static readonly Lazy<(Model Model, HashSet<string> Pruned)> PrunedModel = new(() =>
    {
        var (model, layers) = MagnitudePruner.Prune(OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.ReadOnnx()), 0.9);
        return (model, layers.Select(l => l.WeightName).ToHashSet());
    });

    private static readonly Lazy<Dictionary<string, float[]>> DenseOutputs = new(() => RunAll(new SessionOptions
    {
        SparseKernel = "dense", IntraOpThreads = 2, UseKernelCache = false,
    }, out _));

    private readonly ITestOutputHelper _output;

    public PrunedMiniLmTests(ITestOutputHelper output) => _output = output;

    private static Dictionary<string, Tensor> Inputs()
    {
        var random = new Random(21);
        var ids = new long[Batch * Sequence];
        for (var i = 0; i < ids.Length; i++) ids[i] = random.Next(1000, 30000);
        var mask = new long[ids.Length];
        Array.Fill(mask, 1L);
        mask[^1] = 0;
        return new Dictionary<string, Tensor>
        {
            ["input_ids"] = Tensor<long>.FromArray(ids, Batch, Sequence),
            ["attention_mask"] = Tensor<long>.FromArray(mask, Batch, Sequence),
            ["token_type_ids"] = Tensor<long>.FromArray(new long[ids.Length], Batch, Sequence),
        };
    }

    private static Dictionary<string, float[]> RunAll(SessionOptions options, out IReadOnlyList<WeightKernelChoice> choices) =>
        RunAll(options, out choices, out _);

    private static Dictionary<string, float[]> RunAll(SessionOptions options, out IReadOnlyList<WeightKernelChoice> choices, out long weightBytes)
    {
        using var session = new InferenceSession(PrunedModel.Value.Model, options);
        choices = session.WeightKernels;
        weightBytes = session.WeightBytes;
        var outputs = session.Run(Inputs());
        var result = outputs.ToDictionary(kv => kv.Key, kv => kv.Value.As<float>().Span.ToArray());
        foreach (var t in outputs.Values) t.Dispose();
        return result;
    }

    private static void AssertMatchesDense(Dictionary<string, float[]> actual, string label)
    {
        foreach (var (name, expected) in DenseOutputs.Value)
        {
            var values = actual[name];
            Assert.Equal(expected.Length, values.Length);
            for (var i = 0; i < expected.Length; i++)
                if (!(Math.Abs(values[i] - expected[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i]))))
                    Assert.Fail($"{label}: output '{name}' element {i} is {values[i]}, dense gives {expected[i]}");
        }
    }

    public static TheoryData<string> ForcedKernels()
    {
        var data = new TheoryData<string>();
        foreach (var entry in SparseKernelTable.All) data.Add(entry.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ForcedKernels))]
    public void forced_kernel_matches_dense(string kernel)
    {
        // Unstructured 90% breaks N:M patterns: those weights fall back to measuring the other candidates.
        var actual = RunAll(new SessionOptions { SparseKernel = kernel, IntraOpThreads = 2, UseKernelCache = false }, out var choices);
        AssertMatchesDense(actual, kernel);
        var pruned = choices.Where(c => PrunedModel.Value.Pruned.Contains(c.WeightName)).ToArray();
        Assert.Equal(36, pruned.Length);
        var entry = SparseKernelTable.Find(kernel);
        if (entry.Pattern is null) Assert.All(pruned, c => Assert.Equal((kernel, KernelChoiceSource.Forced), (c.Kernel, c.Source)));
        else Assert.All(pruned, c => Assert.Equal(KernelChoiceSource.Fallback, c.Source));
    }

    [Fact]
    public void auto_matches_dense_and_tunes_each_pruned_linear()
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-cache-");
        try
        {
            var options = new SessionOptions { IntraOpThreads = 2, KernelCachePath = Path.Combine(folder.FullName, "kernel-choices.json") };
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var actual = RunAll(options, out var choices, out var autoBytes);
            _output.WriteLine($"session with tuning and one run: {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.00} s");
            AssertMatchesDense(actual, "auto");
            var pruned = choices.Where(c => PrunedModel.Value.Pruned.Contains(c.WeightName)).ToArray();
            Assert.Equal(36, pruned.Length);
            Assert.All(pruned, c => Assert.Equal(KernelChoiceSource.Measured, c.Source));
            // Per-layer pruning keeps the same count in every weight of a shape: each of the three shapes is timed once.
            Assert.Equal(3, pruned.Count(c => c.Reason.StartsWith("measured", StringComparison.Ordinal)));
            Assert.All(pruned, c => Assert.NotEmpty(c.Timings));
            Assert.All(pruned, c => Assert.InRange(c.Sparsity, 0.89, 0.91));
            foreach (var c in choices)
                _output.WriteLine($"{c.NodeName} {c.Rows}x{c.Columns} {c.Sparsity:P0} -> {c.Kernel} ({c.Bytes} of {c.DenseBytes} B): {c.Reason}");
            // The pooler's weight is not pruned: dense without measuring.
            Assert.Contains(choices, c => !PrunedModel.Value.Pruned.Contains(c.WeightName) && c.Source == KernelChoiceSource.Threshold);

            RunAll(options, out var again);
            Assert.All(again.Where(c => PrunedModel.Value.Pruned.Contains(c.WeightName)), c => Assert.Equal(KernelChoiceSource.Cached, c.Source));
            Assert.Equal(choices.Select(c => c.Kernel), again.Select(c => c.Kernel));

            RunAll(new SessionOptions { SparseKernel = "dense", IntraOpThreads = 2, UseKernelCache = false }, out _, out var denseBytes);
            _output.WriteLine($"weights held: auto {autoBytes:N0} B, dense {denseBytes:N0} B");
            Assert.True(autoBytes <= denseBytes, $"auto holds {autoBytes} B, dense {denseBytes} B");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void pruned_linears_hold_at_most_a_quarter_of_their_dense_bytes()
    {
        RunAll(new SessionOptions { SparseKernel = "CSR", IntraOpThreads = 2, UseKernelCache = false }, out var choices, out var sparseBytes);
        var pruned = choices.Where(c => PrunedModel.Value.Pruned.Contains(c.WeightName)).ToArray();
        long held = pruned.Sum(c => c.Bytes), dense = pruned.Sum(c => c.DenseBytes);
        _output.WriteLine($"pruned Linears: {held:N0} B as CSR, {dense:N0} B dense ({(double)held / dense:P1})");
        Assert.True(held <= dense / 4, $"{held} B held for {dense} B dense");

        RunAll(new SessionOptions { SparseKernel = "dense", IntraOpThreads = 2, UseKernelCache = false }, out _, out var denseBytes);
        // The whole session: the sparse one saves at least three quarters of the pruned weights' dense bytes.
        Assert.True(denseBytes - sparseBytes >= dense * 3 / 4, $"session holds {sparseBytes} B sparse, {denseBytes} B dense");
    }
}
