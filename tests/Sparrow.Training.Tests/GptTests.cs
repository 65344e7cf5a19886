using Microsoft.ML.OnnxRuntime;
using OrtLongTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Tests;

/// <summary>The GPT-style decoder: trains (loss falls), its gradients match finite differences, ONNX Runtime gives the same logits.</summary>
public class GptTests
{
    private static readonly GptOptions Tiny = new(Vocabulary: 7, Context: 8, Width: 8, Heads: 2, Layers: 2, MlpRatio: 2);

    /// <summary>Sequences that count up modulo the vocabulary from a random start: learnable from the previous token.</summary>
    private static Tensor<long> Counting(int batch, int length, int vocabulary, int seed)
    {
        var random = new Random(seed);
        var ids = new long[batch * length];
        for (var b = 0; b < batch; b++)
        {
            var start = random.Next(vocabulary);
            for (var t = 0; t < length; t++) ids[b * length + t] = (start + t) % vocabulary;
        }
        return Tensor<long>.FromArray(ids, [batch, length]);
    }

    /// <summary>Next-token cross-entropy: logits [B, T, V] against the input shifted by one (the last position has no target and is skipped).</summary>
    private static double NextTokenLoss(Tensor<float> logits, Tensor<long> ids, Span<float> gradient)
    {
        int batch = logits.Shape[0], length = logits.Shape[1], vocabulary = logits.Shape[2];
        var rows = batch * (length - 1);
        var selected = new float[rows * vocabulary];
        var labels = new int[rows];
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < length - 1; t++)
            {
                var row = b * (length - 1) + t;
                logits.Span.Slice((b * length + t) * vocabulary, vocabulary).CopyTo(selected.AsSpan(row * vocabulary));
                labels[row] = (int)ids.Span[b * length + t + 1];
            }
        var rowGradient = new float[selected.Length];
        var loss = Losses.CrossEntropy(Tensor<float>.FromArray(selected, [rows, vocabulary]), labels, rowGradient);
        gradient.Clear();
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < length - 1; t++)
                rowGradient.AsSpan((b * (length - 1) + t) * vocabulary, vocabulary).CopyTo(gradient.Slice((b * length + t) * vocabulary));
        return loss;
    }

    [Fact]
    public void Parameter_count_matches_the_initializers()
    {
        foreach (var tied in new[] { false, true })
        {
            var options = Tiny with { TiedHead = tied };
            var model = GptBuilder.Build(options, seed: 1);
            Assert.Equal(options.ParameterCount, model.Graph.Initializers.Values.Sum(t => (long)t.Length));
            Assert.All(model.Graph.Initializers.Values, t => Assert.Equal(DataType.Float32, t.ElementType));
        }
    }

    [Fact]
    public void Loss_falls_and_onnx_runtime_gives_the_same_logits_after_training()
    {
        foreach (var tied in new[] { false, true })
        {
            var model = GptBuilder.Build(Tiny with { TiedHead = tied }, seed: 2);
            var trainer = new Trainer(model, new AdamW(weightDecay: 0), new ConstantSchedule(0.01f), new TrainerOptions());
            var batch = Counting(4, 8, Tiny.Vocabulary, seed: 3);
            var inputs = new Dictionary<string, Tensor> { [ModelBuilder.InputName] = batch };
            var first = trainer.TrainStep(inputs, (y, g) => NextTokenLoss(y, batch, g)).Loss;
            double last = first;
            for (var i = 0; i < 60; i++) last = trainer.TrainStep(inputs, (y, g) => NextTokenLoss(y, batch, g)).Loss;
            Assert.True(last < 0.5 * first, $"tied {tied}: loss {first:F3} -> {last:F3}");

            // A shorter sequence than the context: the position table and the mask are sliced at run time.
            var probe = Counting(2, 5, Tiny.Vocabulary, seed: 4);
            float[] sparrow;
            using (var pass = trainer.Graph.Forward(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = probe }))
                sparrow = pass.FloatValue(ModelBuilder.OutputName).ToArray();
            using var session = new InferenceSession(OnnxExporter.ToBytes(model));
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelBuilder.InputName, new OrtLongTensor(probe.ToArray(), [2, 5]))]);
            var reference = results.Single(r => r.Name == ModelBuilder.OutputName).AsEnumerable<float>().ToArray();
            Assert.Equal(2 * 5 * Tiny.Vocabulary, reference.Length);
            Assert.Equal(reference.Length, sparrow.Length);
            for (var i = 0; i < reference.Length; i++)
                Assert.True(Math.Abs(sparrow[i] - reference[i]) <= 1e-4 + 1e-4 * Math.Abs(reference[i]), $"tied {tied}, logit {i}: Sparrow {sparrow[i]}, ONNX Runtime {reference[i]}");
        }
    }

    [Fact]
    public void Causal_mask_hides_later_tokens()
    {
        var model = GptBuilder.Build(Tiny, seed: 5);
        var graph = new TrainingGraph(model, []);
        var a = Tensor<long>.FromArray([1L, 2, 3, 4, 5, 6], [1, 6]);
        var b = Tensor<long>.FromArray([1L, 2, 3, 0, 0, 0], [1, 6]);
        float[] Logits(Tensor<long> ids)
        {
            using var pass = graph.Forward(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = ids });
            return pass.FloatValue(ModelBuilder.OutputName).ToArray();
        }
        var la = Logits(a);
        var lb = Logits(b);
        for (var i = 0; i < 3 * Tiny.Vocabulary; i++) Assert.Equal(la[i], lb[i]);
        Assert.NotEqual(la[3 * Tiny.Vocabulary], lb[3 * Tiny.Vocabulary]);
    }

    [Fact]
    public void Gradients_of_the_whole_decoder_match_finite_differences()
    {
        var model = GptBuilder.Build(Tiny, seed: 6);
        // Larger weights than GPT-2's 0.02 so that every path (attention included) moves the loss measurably.
        var random = new Xoshiro256(7);
        foreach (var (name, tensor) in model.Graph.Initializers)
        {
            var span = tensor.As<float>().Span;
            for (var i = 0; i < span.Length; i++) span[i] += (float)(0.3 * random.NextGaussian());
        }
        var graph = new TrainingGraph(model, Trainer.FloatInitializers(model).ToArray());
        var ids = Counting(2, 6, Tiny.Vocabulary, seed: 8);
        var inputs = new Dictionary<string, Tensor> { [ModelBuilder.InputName] = ids };
        var checkedCount = FiniteDifferenceCheck.Run(graph, inputs, ModelBuilder.OutputName, seed: 9, samplesPerParameter: 6,
            absoluteTolerance: 5e-3, relativeTolerance: 2e-2);
        Assert.True(checkedCount > 100, $"{checkedCount} checked");
    }

    private static readonly GptOptions TinyMoE = Tiny with { Experts = 4, ExpertsPerToken = 2 };

    [Fact]
    public void MoE_decoder_counts_parameters_trains_and_runs_in_onnx_runtime_once_expanded()
    {
        var model = GptBuilder.Build(TinyMoE, seed: 2);
        Assert.Equal(TinyMoE.ParameterCount, model.Graph.Initializers.Values.Sum(t => (long)t.Length));
        var moe = Sparrow.Graph.Passes.MixtureOfExperts.Describe(model);
        Assert.Equal(2, moe.Count);
        Assert.Equal(TinyMoE.ParameterCount - TinyMoE.ActiveParameterCount, moe.Sum(l => l.TotalParameters - l.ActiveParametersPerToken));

        var trainer = new Trainer(model, new AdamW(weightDecay: 0), new ConstantSchedule(0.01f), new TrainerOptions());
        var batch = Counting(4, 8, Tiny.Vocabulary, seed: 3);
        var inputs = new Dictionary<string, Tensor> { [ModelBuilder.InputName] = batch };
        var first = trainer.TrainStep(inputs, (y, g) => NextTokenLoss(y, batch, g)).Loss;
        double last = first;
        for (var i = 0; i < 60; i++) last = trainer.TrainStep(inputs, (y, g) => NextTokenLoss(y, batch, g)).Loss;
        Assert.True(last < 0.5 * first, $"loss {first:F3} -> {last:F3}");

        var probe = Counting(2, 5, Tiny.Vocabulary, seed: 4);
        float[] sparrow;
        long[] counts;
        using (var pass = trainer.Graph.Forward(new Dictionary<string, Tensor> { [ModelBuilder.InputName] = probe }))
        {
            sparrow = pass.FloatValue(ModelBuilder.OutputName).ToArray();
            counts = ((Tensor<long>)pass.Value(GptBuilder.ExpertCountsOutput(0))).ToArray();
        }
        Assert.Equal(2 * 5 * 2, counts.Sum()); // dropless: every token reaches k = 2 experts
        var expanded = Sparrow.Graph.Onnx.OnnxImporter.Load(OnnxExporter.ToBytes(model));
        Assert.Equal(2, Sparrow.Graph.Passes.MixtureOfExperts.ExpandToStandardOnnx(expanded));
        using var session = new InferenceSession(OnnxExporter.ToBytes(expanded));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelBuilder.InputName, new OrtLongTensor(probe.ToArray(), [2, 5]))]);
        var reference = results.Single(r => r.Name == ModelBuilder.OutputName).AsEnumerable<float>().ToArray();
        Assert.Equal(reference.Length, sparrow.Length);
        for (var i = 0; i < reference.Length; i++)
            Assert.True(Math.Abs(sparrow[i] - reference[i]) <= 1e-4 + 1e-4 * Math.Abs(reference[i]), $"logit {i}: Sparrow {sparrow[i]}, ONNX Runtime {reference[i]}");
        Assert.Equal(counts, results.Single(r => r.Name == GptBuilder.ExpertCountsOutput(0)).AsEnumerable<long>().ToArray());
    }

    /// <summary>
    /// k = E here: with k &lt; E, moving one weight by ±ε can change some token's top-k choice, a jump that no
    /// gradient describes (the rule's own checks pick cases away from such ties). With every expert chosen the
    /// router still gets its gradient through the renormalised gates.
    /// </summary>
    [Fact]
    public void Gradients_of_the_MoE_decoder_match_finite_differences()
    {
        var model = GptBuilder.Build(TinyMoE with { Layers = 1, ExpertsPerToken = 4 }, seed: 6);
        var random = new Xoshiro256(7);
        foreach (var (name, tensor) in model.Graph.Initializers)
        {
            var span = tensor.As<float>().Span;
            for (var i = 0; i < span.Length; i++) span[i] += (float)(0.3 * random.NextGaussian());
        }
        var graph = new TrainingGraph(model, Trainer.FloatInitializers(model).ToArray());
        var inputs = new Dictionary<string, Tensor> { [ModelBuilder.InputName] = Counting(2, 6, Tiny.Vocabulary, seed: 8) };
        var checkedCount = FiniteDifferenceCheck.Run(graph, inputs, ModelBuilder.OutputName, seed: 9, samplesPerParameter: 6,
            absoluteTolerance: 5e-3, relativeTolerance: 2e-2);
        Assert.True(checkedCount > 50, $"{checkedCount} checked");
    }
}
