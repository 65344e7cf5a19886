using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Training.Recovery;

namespace Sparrow.Training.Tests;

public sealed class SentenceEncoderRecoveryTests
{
    private const int Vocabulary = 20, Width = 6, Hidden = 8;

    /// <summary>
    /// A tiny sentence encoder: token embeddings, a residual tanh MLP, token states out as last_hidden_state; it takes
    /// input_ids and attention_mask like MiniLM.
    /// </summary>
    private static Model TinyEncoder(int seed)
    {
        var graph = new ModelGraph { Name = "tiny-encoder" };
        graph.Inputs.Add(new ValueInfo("input_ids", DataType.Int64, null));
        graph.Inputs.Add(new ValueInfo("attention_mask", DataType.Int64, null));
        graph.Initializers["table"] = GraphCases.Random(seed, Vocabulary, Width);
        graph.Initializers["w1"] = Scaled(GraphCases.Random(seed + 1, Width, Hidden), 0.5f);
        graph.Initializers["b1"] = Scaled(GraphCases.Random(seed + 2, Hidden), 0.1f);
        graph.Initializers["w2"] = Scaled(GraphCases.Random(seed + 3, Hidden, Width), 0.5f);
        graph.Nodes.Add(new Node("Gather", ["table", "input_ids"], ["e"], "embed"));
        graph.Nodes.Add(new Node("MatMul", ["e", "w1"], ["h"], "fc1"));
        graph.Nodes.Add(new Node("Add", ["h", "b1"], ["hb"], "bias1"));
        graph.Nodes.Add(new Node("Tanh", ["hb"], ["a"], "act"));
        graph.Nodes.Add(new Node("MatMul", ["a", "w2"], ["o"], "fc2"));
        graph.Nodes.Add(new Node("Add", ["o", "e"], ["last_hidden_state"], "residual"));
        graph.Outputs.Add(new ValueInfo("last_hidden_state", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        return model;
    }

    private static Tensor<float> Scaled(Tensor<float> t, float by)
    {
        var span = t.Span;
        for (var i = 0; i < span.Length; i++) span[i] *= by;
        return t;
    }

    /// <summary>The teacher's weights with the smaller half of each weight matrix set to zero: what magnitude pruning gives.</summary>
    private static Model Pruned(Model teacher)
    {
        var student = Sparrow.Training.Models.ModelBuilder.DeepCopy(teacher);
        foreach (var name in new[] { "w1", "w2" })
        {
            var values = ((Tensor<float>)student.Graph.Initializers[name]).Span;
            var threshold = values.ToArray().Select(MathF.Abs).Order().ElementAt(values.Length / 2);
            for (var i = 0; i < values.Length; i++)
                if (MathF.Abs(values[i]) < threshold) values[i] = 0;
        }
        return student;
    }

    private static int[][] Sentences(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var length = random.Next(3, 8);
            return Enumerable.Range(0, length).Select(p => p == 0 ? 1 : p == length - 1 ? 2 : random.Next(3, Vocabulary)).ToArray();
        }).ToArray();
    }

    private static Func<IReadOnlyDictionary<string, Tensor>, Tensor<float>> TeacherOf(Model teacher)
    {
        var session = new InferenceSession(teacher, new SessionOptions { IntraOpThreads = 1 });
        return inputs =>
        {
            var outputs = session.Run(inputs);
            return (Tensor<float>)outputs["last_hidden_state"];
        };
    }

    [Theory]
    [InlineData(SentenceDistillationLoss.HiddenStateMse)]
    [InlineData(SentenceDistillationLoss.EmbeddingCosine)]
    public void Distillation_keeps_pruned_weights_zero_lowers_the_loss_and_raises_fidelity(SentenceDistillationLoss loss)
    {
        var teacher = TinyEncoder(seed: 3);
        var student = Pruned(teacher);
        var zeros = new[] { "w1", "w2" }.ToDictionary(n => n, n => ((Tensor<float>)student.Graph.Initializers[n]).Span.ToArray().Select((v, i) => (v, i)).Where(x => x.v == 0).Select(x => x.i).ToArray());
        var table = ((Tensor<float>)student.Graph.Initializers["table"]).Span.ToArray();
        var sentences = Sentences(8, seed: 5);
        var recovery = new SentenceEncoderRecovery(student, TeacherOf(teacher), sentences, paddingId: 0, new SentenceEncoderRecoveryOptions
        {
            Loss = loss, Steps = 60, BatchSize = 8, LearningRate = 0.02f, Seed = 1,
        });
        Assert.Equal(new[] { "w1", "w2" }, recovery.Masked.Select(p => p.Name).Order());
        // The embedding table is read by Gather and stays frozen; the bias trains.
        Assert.DoesNotContain("table", recovery.Trainer.Graph.Parameters.Select(p => p.Name));
        Assert.Contains("b1", recovery.Trainer.Graph.Parameters.Select(p => p.Name));

        var before = recovery.Fidelity(sentences);
        var losses = new List<double>();
        recovery.Run(r => losses.Add(r.Loss));
        var after = recovery.Fidelity(sentences);

        Assert.Equal(60, losses.Count);
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
        Assert.True(after > before, $"fidelity {before} -> {after}");
        foreach (var (name, positions) in zeros)
        {
            var values = ((Tensor<float>)student.Graph.Initializers[name]).Span.ToArray();
            Assert.All(positions, i => Assert.Equal(0f, values[i]));
            // Only the pruned positions are zero: the kept ones trained.
            Assert.Equal(positions.Length, values.Count(v => v == 0));
        }
        Assert.Equal(table, ((Tensor<float>)student.Graph.Initializers["table"]).Span.ToArray());
    }

    [Fact]
    public void A_run_resumed_from_its_checkpoint_ends_with_the_same_weights()
    {
        var teacher = TinyEncoder(seed: 7);
        var sentences = Sentences(10, seed: 9);
        var options = new SentenceEncoderRecoveryOptions { Steps = 8, BatchSize = 4, LearningRate = 0.01f, Seed = 2 };

        var whole = Pruned(teacher);
        new SentenceEncoderRecovery(whole, TeacherOf(teacher), sentences, 0, options).Run();

        var path = Path.Combine(Path.GetTempPath(), $"sparrow-recovery-{Guid.NewGuid():N}.ckpt");
        try
        {
            var first = new SentenceEncoderRecovery(Pruned(teacher), TeacherOf(teacher), sentences, 0, options);
            while (first.Step < 3) first.TrainStep();
            first.SaveCheckpoint(path);

            // A new process: the pruned model as read from disk, then the checkpoint.
            var resumedModel = Pruned(teacher);
            var resumed = new SentenceEncoderRecovery(resumedModel, TeacherOf(teacher), sentences, 0, options);
            resumed.LoadCheckpoint(path);
            Assert.Equal(3, resumed.Step);
            resumed.Run();

            foreach (var name in new[] { "w1", "b1", "w2" })
                Assert.Equal(((Tensor<float>)whole.Graph.Initializers[name]).Span.ToArray(), ((Tensor<float>)resumedModel.Graph.Initializers[name]).Span.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(SentenceDistillationLoss.HiddenStateMse)]
    [InlineData(SentenceDistillationLoss.EmbeddingCosine)]
    public void Loss_gradients_match_finite_differences(SentenceDistillationLoss loss)
    {
        int batch = 2, sequence = 3, dim = 4;
        var student = GraphCases.Random(11, batch, sequence, dim);
        var teacher = GraphCases.Random(12, batch, sequence, dim).Span.ToArray();
        long[] mask = [1, 1, 0, 1, 1, 1];
        double Loss(Tensor<float> s, float[] g) => loss == SentenceDistillationLoss.HiddenStateMse
            ? HiddenStateLosses.MaskedMeanSquaredError(s, teacher, mask, g)
            : HiddenStateLosses.EmbeddingCosineDistance(s, teacher, mask, g);
        var gradient = new float[student.Length];
        Loss(student, gradient);
        var scratch = new float[student.Length];
        for (var i = 0; i < student.Length; i++)
        {
            var original = student.Span[i];
            const float h = 1e-3f;
            student.Span[i] = original + h;
            var up = Loss(student, scratch);
            student.Span[i] = original - h;
            var down = Loss(student, scratch);
            student.Span[i] = original;
            var numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) < 1e-3 + 1e-2 * Math.Abs(numeric), $"element {i}: analytic {gradient[i]}, numeric {numeric}");
        }
        // Padding (the third token of the first sentence) gets no gradient.
        Assert.All(Enumerable.Range(2 * dim, dim), i => Assert.Equal(0f, gradient[i]));
    }
}
