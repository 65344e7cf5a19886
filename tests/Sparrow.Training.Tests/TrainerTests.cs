using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Tests;

public class TrainerTests
{
    /// <summary>Gaussian blobs: class c is centred at a random point; easy to learn, fixed by the seed.</summary>
    internal static ArrayDataset Blobs(int count, int features, int classes, long seed)
    {
        var random = new Xoshiro256(seed);
        var centres = Enumerable.Range(0, classes * features).Select(_ => (float)random.NextGaussian()).ToArray();
        var data = new float[count * features];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
            for (var f = 0; f < features; f++) data[i * features + f] = centres[labels[i] * features + f] + 0.5f * (float)random.NextGaussian();
        }
        return new ArrayDataset(data, [features], labels);
    }

    /// <summary>Sets the smallest-magnitude fraction of every weight matrix to zero (magnitude pruning, per layer).</summary>
    internal static void PruneSmallest(Model model, double sparsity)
    {
        foreach (var (name, tensor) in model.Graph.Initializers)
        {
            if (tensor is not Tensor<float> { Rank: >= 2 } w) continue;
            var copy = w.ToArray();
            var values = w.Span;
            var order = Enumerable.Range(0, copy.Length).OrderBy(i => Math.Abs(copy[i])).ThenBy(i => i).ToArray();
            var pruned = (int)Math.Round(sparsity * values.Length);
            for (var i = 0; i < pruned; i++) values[order[i]] = 0f;
        }
    }

    [Fact]
    public void Loss_falls_on_a_fixed_batch()
    {
        var model = ModelBuilder.Mlp([8, 16, 3], seed: 1);
        var trainer = new Trainer(model, new SgdMomentum(0.9f), new ConstantSchedule(0.05f));
        var (features, labels) = Blobs(12, 8, 3, seed: 2).Range(0, 12);
        var first = trainer.TrainStep(features, labels).Loss;
        var last = first;
        for (var i = 0; i < 40; i++) last = trainer.TrainStep(features, labels).Loss;
        Assert.True(last < 0.2 * first, $"loss went from {first} to {last}");
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void Pruned_weights_stay_exactly_zero(string optimizer)
    {
        var model = ModelBuilder.Mlp([20, 32, 16, 4], seed: 3);
        PruneSmallest(model, 0.8);
        var before = model.Graph.Initializers.ToDictionary(e => e.Key, e => ((Tensor<float>)e.Value).ToArray());
        Optimizer opt = optimizer == "sgd" ? new SgdMomentum(0.9f, weightDecay: 1e-3f) : new AdamW(weightDecay: 0.1f);
        var trainer = new Trainer(model, opt, new ConstantSchedule(0.01f), new TrainerOptions { BatchSize = 16, Seed = 4 });
        var masked = trainer.MaskZeros();
        Assert.Equal(3, masked.Count);
        trainer.Fit(Blobs(200, 20, 4, seed: 5), untilStep: 25);
        foreach (var p in masked)
        {
            var now = p.Value.Span;
            var was = before[p.Name];
            var changed = 0;
            for (var i = 0; i < now.Length; i++)
            {
                if (was[i] == 0f) Assert.Equal(0, BitConverter.SingleToInt32Bits(now[i]));
                else if (now[i] != was[i]) changed++;
            }
            Assert.True(changed > 0.9 * p.Mask!.KeptCount, $"{p.Name}: only {changed} of {p.Mask.KeptCount} kept weights trained");
        }
    }

    [Theory]
    [InlineData(0.9)]
    [InlineData(0.95)]
    public void Sparse_weight_gradient_matches_the_dense_one_at_kept_positions(double sparsity)
    {
        float[][] Gradients(bool sparse)
        {
            var model = ModelBuilder.Mlp([24, 40, 5], seed: 6);
            PruneSmallest(model, sparsity);
            var trainer = new Trainer(model, new SgdMomentum(), new ConstantSchedule(0f), new TrainerOptions { SparseWeightGradients = sparse });
            trainer.MaskZeros();
            var (features, labels) = Blobs(32, 24, 5, seed: 7).Range(0, 32);
            trainer.TrainStep(features, labels);
            return trainer.Graph.Parameters.Select(p => p.Gradient.ToArray()).ToArray();
        }
        var sparseGradients = Gradients(true);
        var denseGradients = Gradients(false);
        for (var p = 0; p < sparseGradients.Length; p++)
            for (var i = 0; i < sparseGradients[p].Length; i++)
                Assert.True(Math.Abs(sparseGradients[p][i] - denseGradients[p][i]) <= 1e-5 + 1e-4 * Math.Abs(denseGradients[p][i]),
                    $"parameter {p} element {i}: sparse {sparseGradients[p][i]}, dense {denseGradients[p][i]}");
    }

    [Fact]
    public void A_resumed_run_reaches_the_same_weights_bit_for_bit()
    {
        var data = Blobs(150, 10, 3, seed: 8);
        const int Total = 24, Killed = 9;
        Trainer NewTrainer()
        {
            var model = ModelBuilder.Mlp([10, 12, 3], seed: 9);
            PruneSmallest(model, 0.5);
            var trainer = new Trainer(model, new AdamW(weightDecay: 0.05f), new WarmupCosineSchedule(0.01f, 5, Total),
                new TrainerOptions { BatchSize = 16, Seed = 10, ClipNorm = 1.0 });
            trainer.MaskZeros();
            return trainer;
        }
        var uninterrupted = NewTrainer();
        uninterrupted.Fit(data, Total);

        var folder = Directory.CreateTempSubdirectory("sparrow-training-");
        try
        {
            var checkpoint = Path.Combine(folder.FullName, "run.ckpt");
            // The run saves every 3 steps and "dies" after step Killed; a fresh trainer on a freshly built model
            // picks up from the file.
            NewTrainer().Fit(data, Killed, checkpointPath: checkpoint, checkpointEvery: 3);
            var resumed = NewTrainer();
            resumed.LoadCheckpoint(checkpoint);
            Assert.Equal(Killed, resumed.Step);
            resumed.Fit(data, Total);
            Assert.Equal(Total, resumed.Step);
            foreach (var p in uninterrupted.Graph.Parameters)
            {
                var expected = p.Value.ToArray().Select(BitConverter.SingleToInt32Bits);
                var actual = resumed.Graph.Parameter(p.Name).Value.ToArray().Select(BitConverter.SingleToInt32Bits);
                Assert.Equal(expected, actual);
            }
            Assert.Empty(Directory.GetFiles(folder.FullName, "*.tmp"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_truncated_checkpoint_is_refused_with_a_message()
    {
        var trainer = new Trainer(ModelBuilder.Mlp([4, 3], seed: 1), new AdamW(), new ConstantSchedule(0.01f));
        var path = Path.GetTempFileName();
        try
        {
            trainer.SaveCheckpoint(path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var error = Assert.Throws<InvalidDataException>(() => trainer.LoadCheckpoint(path));
            Assert.Contains("truncated", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Schedules_warm_up_then_decay()
    {
        var cosine = new WarmupCosineSchedule(1f, warmupSteps: 10, totalSteps: 110, minimum: 0.1f);
        Assert.Equal(0.1f, cosine.Rate(0), 5);
        Assert.Equal(1f, cosine.Rate(9), 5);
        Assert.Equal(1f, cosine.Rate(10), 5);
        Assert.Equal(0.55f, cosine.Rate(60), 5);
        Assert.Equal(0.1f, cosine.Rate(110), 5);
        var linear = new WarmupLinearSchedule(2f, warmupSteps: 4, totalSteps: 14);
        Assert.Equal(1f, linear.Rate(1), 5);
        Assert.Equal(1f, linear.Rate(9), 5);
        Assert.Equal(0f, linear.Rate(20), 5);
    }

    [Fact]
    public void Clipping_scales_the_global_norm_down_to_the_limit()
    {
        var trainer = new Trainer(ModelBuilder.Mlp([3, 2], seed: 1), new SgdMomentum(), new ConstantSchedule(0f));
        var parameters = trainer.Graph.Parameters;
        parameters[0].Gradient.AsSpan().Fill(3f);
        parameters[1].Gradient.AsSpan().Fill(4f);
        var before = GradientClipping.ClipGlobalNorm(parameters, 1.0);
        Assert.Equal(Math.Sqrt(6 * 9 + 2 * 16), before, 5);
        Assert.Equal(1.0, GradientClipping.GlobalNorm(parameters), 5);
        Assert.Equal(1.0, GradientClipping.ClipGlobalNorm(parameters, 2.0), 5);
    }

    [Theory]
    [InlineData("cross-entropy")]
    [InlineData("mse")]
    [InlineData("distillation")]
    public void Loss_gradients_match_finite_differences(string kind)
    {
        var random = new Xoshiro256(11);
        var logits = Enumerable.Range(0, 12).Select(_ => (float)random.NextGaussian()).ToArray();
        var other = Enumerable.Range(0, 12).Select(_ => (float)random.NextGaussian()).ToArray();
        int[] labels = [1, 3, 0];
        double Loss(float[] z, Span<float> gradient) => kind switch
        {
            "cross-entropy" => Losses.CrossEntropy(Tensor<float>.FromArray(z, 3, 4), labels, gradient),
            "mse" => Losses.MeanSquaredError(Tensor<float>.FromArray(z, 3, 4), other, gradient),
            _ => Losses.Distillation(Tensor<float>.FromArray(z, 3, 4), other, 2.5, gradient),
        };
        var analytic = new float[12];
        Loss(logits, analytic);
        for (var i = 0; i < 12; i++)
        {
            var z = logits.ToArray();
            z[i] += 1e-2f;
            var plus = Loss(z, new float[12]);
            z[i] -= 2e-2f;
            var minus = Loss(z, new float[12]);
            Assert.Equal((plus - minus) / 2e-2, analytic[i], 3);
        }
        if (kind == "distillation") Assert.Equal(0.0, Losses.Distillation(Tensor<float>.FromArray(other, 3, 4), other, 2.5, new float[12]), 9);
    }
}

public class SparseForwardTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Csr_forward_gives_the_dense_outputs_and_gradients(bool viaMatMul)
    {
        (float[] Logits, float[][] Gradients) Run(bool sparse)
        {
            var model = Models.ModelBuilder.Mlp([30, 20, 4], seed: 12);
            if (viaMatMul)
            {
                // The same layer as MatMul over a [in, out] weight plus Add.
                var w = (Tensor<float>)model.Graph.Initializers["fc1.weight"];
                var transposed = new float[w.Length];
                Autograd.TensorMath.Transpose(w.Span, 20, 30, transposed);
                model.Graph.Initializers["fc1.weight"] = Tensor<float>.FromArray(transposed, 30, 20);
                var gemm = model.Graph.Nodes[0];
                model.Graph.Nodes[0] = new Sparrow.Graph.Node("MatMul", ["input", "fc1.weight"], ["fc1.mm"], "fc1");
                model.Graph.Nodes.Insert(1, new Sparrow.Graph.Node("Add", ["fc1.mm", "fc1.bias"], [gemm.Outputs[0]], "fc1.add"));
            }
            TrainerTests.PruneSmallest(model, 0.9);
            var trainer = new Trainer(model, new SgdMomentum(), new ConstantSchedule(0f));
            trainer.MaskZeros();
            trainer.Graph.SparseForward = sparse;
            var (features, labels) = TrainerTests.Blobs(16, 30, 4, seed: 13).Range(0, 16);
            trainer.TrainStep(features, labels);
            using var logits = trainer.Predict(features);
            return (logits.ToArray(), trainer.Graph.Parameters.Select(p => p.Gradient.ToArray()).ToArray());
        }
        var dense = Run(false);
        var sparse = Run(true);
        for (var i = 0; i < dense.Logits.Length; i++) Assert.Equal(dense.Logits[i], sparse.Logits[i], 4);
        for (var p = 0; p < dense.Gradients.Length; p++)
            for (var i = 0; i < dense.Gradients[p].Length; i++) Assert.Equal(dense.Gradients[p][i], sparse.Gradients[p][i], 4);
    }
}

public class MultipleOutputGradientTests
{
    /// <summary>Gradients seeded at an intermediate value and at the output together equal the sum of the two
    /// seeded apart (what hidden-state distillation needs: a loss on a hidden layer and one on the logits).</summary>
    [Fact]
    public void Gradients_seeded_at_a_hidden_value_and_the_output_add_up()
    {
        var random = new Xoshiro256(14);
        Tensor<float> Noise(params int[] shape) => Tensor<float>.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)random.NextGaussian()).ToArray(), shape);
        var model = Models.ModelBuilder.Mlp([6, 5, 3], seed: 15);
        var graph = new Autograd.TrainingGraph(model, Trainer.FloatInitializers(model));
        var input = new Dictionary<string, Tensor> { ["input"] = Noise(4, 6) };
        var hidden = Noise(4, 5);
        var output = Noise(4, 3);
        float[][] Gradients(params (string Name, Tensor<float> Gradient)[] seeds)
        {
            graph.ZeroGradients();
            using var pass = graph.Forward(input);
            pass.Backward(seeds.ToDictionary(s => s.Name, s => s.Gradient));
            return graph.Parameters.Select(p => p.Gradient.ToArray()).ToArray();
        }
        var both = Gradients(("fc1.relu", hidden), ("logits", output));
        var first = Gradients(("fc1.relu", hidden));
        var second = Gradients(("logits", output));
        Assert.Contains(first, g => g.Any(v => v != 0f));
        for (var p = 0; p < both.Length; p++)
            for (var i = 0; i < both[p].Length; i++) Assert.Equal(first[p][i] + second[p][i], both[p][i], 5);
    }
}
