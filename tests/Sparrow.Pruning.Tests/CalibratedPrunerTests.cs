using Sparrow.Data.Models;
using Sparrow.Data.Embeddings;
using Sparrow.Data.Evaluation;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Calibration;
using Sparrow.Runtime;
using Xunit.Abstractions;

namespace Sparrow.Pruning.Tests;

/// <summary>Wanda and SparseGPT on the embedded MiniLM, calibrated on the built-in sentences, judged on others.</summary>
public class CalibratedPrunerTests(ITestOutputHelper output)
{
    private static readonly Lazy<Model> MiniLm = new(() => OnnxImporter.Load(DefaultModel.ReadOnnx()));

    /// <summary>Held out: none of these is in the calibration sample.</summary>
    private static readonly IReadOnlyList<string> HeldOut = HeldOutSentences.Sample;

    private static readonly PruneSettings HalfSparse = new() { Sparsity = 0.5 };

    [Fact]
    public void HeldOutSentences_AreNotInTheCalibrationSample()
    {
        Assert.Equal(64, HeldOut.Count);
        Assert.Empty(HeldOut.Intersect(CalibrationSentences.Sample, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void Wanda_KeepsTheSameCountInEveryOutputAndDiffersFromMagnitude()
    {
        var model = MiniLm.Value;
        var (wanda, layers) = CalibratedPruner.Wanda(model, HalfSparse, CalibrationSentences.Batches(CalibrationSentences.Sample));
        var (magnitude, _) = Pruner.Prune(model, HalfSparse);
        Assert.All(layers, l => Assert.Equal(l.Parameters / 2, l.Zeros));
        var target = Pruner.SelectTargets(wanda.Graph, HalfSparse)[0];
        var (rows, columns) = WeightLayout.OutByInShape(target);
        var pruned = WeightLayout.ToOutByIn(target, wanda.Graph.Initializers[target.WeightName].As<float>().Span);
        for (var r = 0; r < rows; r++) Assert.Equal(columns / 2, pruned.AsSpan(r * columns, columns).Count(0f));
        var byMagnitude = WeightLayout.ToOutByIn(target, magnitude.Graph.Initializers[target.WeightName].As<float>().Span);
        Assert.NotEqual(byMagnitude.Select(v => v == 0), pruned.Select(v => v == 0));
    }

    [Fact]
    public void WandaAndSparseGpt_KeepEmbeddingsCloserToDenseThanMagnitude_OnHeldOutSentences()
    {
        var model = MiniLm.Value;
        var settings = new PruneSettings { Sparsity = 0.5 };
        var dense = Embed(model);
        var magnitude = Fidelity(dense, Embed(Pruner.Prune(model, settings).Pruned));
        var wanda = Fidelity(dense, Embed(CalibratedPruner.Wanda(model, settings, CalibrationSentences.Batches(CalibrationSentences.Sample)).Pruned));
        var (sparseGptModel, layers) = CalibratedPruner.SparseGpt(model, settings, () => CalibrationSentences.Batches(CalibrationSentences.Sample));
        Assert.All(layers, l => Assert.Equal(l.Parameters / 2, l.Zeros));
        var sparseGpt = Fidelity(dense, Embed(sparseGptModel));
        output.WriteLine($"mean cosine to dense at 50%: magnitude {magnitude:F4}, wanda {wanda:F4}, sparsegpt {sparseGpt:F4}");
        Assert.True(wanda > magnitude, $"Wanda's mean cosine {wanda:F4} should beat magnitude's {magnitude:F4}.");
        Assert.True(sparseGpt > magnitude, $"SparseGPT's mean cosine {sparseGpt:F4} should beat magnitude's {magnitude:F4}.");
    }

    [Fact]
    public void SparseGpt_TwoFour_FollowsThePatternExactly()
    {
        var settings = new PruneSettings { Pattern = PruningPattern.NM(2, 4), Targets = new TargetSelection { Include = [] } };
        var model = MiniLm.Value;
        var first = Pruner.SelectTargets(model.Graph, settings).Take(3).Select(t => t.WeightName).ToArray();
        settings = settings with { Targets = new TargetSelection { Include = first.Select(n => "^" + System.Text.RegularExpressions.Regex.Escape(n) + "$").ToArray() } };
        var (pruned, layers) = CalibratedPruner.SparseGpt(model, settings, () => CalibrationSentences.Batches(CalibrationSentences.Sample.Take(16)));
        Assert.Equal(3, layers.Count);
        foreach (var target in Pruner.SelectTargets(pruned.Graph, settings))
        {
            var (rows, columns) = WeightLayout.OutByInShape(target);
            var values = WeightLayout.ToOutByIn(target, pruned.Graph.Initializers[target.WeightName].As<float>().Span);
            for (var r = 0; r < rows; r++)
                for (var g = 0; g < columns; g += 4)
                    Assert.True(values.AsSpan(r * columns + g, 4).Count(0f) >= 2, $"{target.WeightName} row {r} group {g / 4} keeps more than 2 of 4");
        }
    }

    [Fact]
    public void ConvTargets_AreRefusedWithAWayOut()
    {
        var model = Sparrow.Graph.Builders.SmallCnn.Build(seed: 1);
        var e = Assert.Throws<PruningRequestException>(() => CalibratedPruner.Wanda(model, HalfSparse, []));
        Assert.Contains("Conv", e.Message);
    }

    [Fact]
    public void SparseGpt_RefusesAnOverrideThatNamesNoTarget_BeforeCalibrating()
    {
        var settings = HalfSparse with { LayerSparsity = new Dictionary<string, double> { ["no-such-weight"] = 0.1 } };
        var calibrated = false;
        var e = Assert.Throws<PruningRequestException>(() =>
            CalibratedPruner.SparseGpt(MiniLm.Value, settings, () => { calibrated = true; return CalibrationSentences.Batches(CalibrationSentences.Sample); }));
        Assert.Contains("no-such-weight", e.Message);
        Assert.False(calibrated);
    }

    private static float[][] Embed(Model model)
    {
        using var session = new InferenceSession(model, new SessionOptions { SparseKernel = "dense", UseKernelCache = false });
        var embedder = new SentenceEmbedder(inputs => session.Run(inputs));
        return embedder.Embed(HeldOut);
    }

    private static double Fidelity(float[][] dense, float[][] pruned) =>
        dense.Zip(pruned, (a, b) => (double)System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b)).Average();
}
