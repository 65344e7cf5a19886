using Sparrow.Cli.Commands;
using Sparrow.Cli.Execution;
using Sparrow.Data.Embeddings;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Runtime;

namespace Sparrow.Cli.Tests;

public class EmbeddingTests
{
    private static readonly string[] Pairs =
    {
        "A man is playing a guitar.",
        "Someone is strumming an acoustic guitar.",
        "The central bank raised interest rates again.",
    };

    private static string[] Sample() => File.ReadAllLines(CliRunner.SamplePath("sentences.txt")).Where(l => l.Length > 0).ToArray();

    [Fact]
    public void The_sample_holds_fifty_distinct_sentences()
    {
        var sample = Sample();
        Assert.Equal(50, sample.Length);
        Assert.Equal(50, sample.Distinct().Count());
        Assert.All(sample, s => Assert.True(s.Split(' ').Length >= 5, s));
    }

    /// <summary>Checks the tokenizer and pooling on their own, with ONNX Runtime as the encoder.</summary>
    [Fact]
    public void Onnx_runtime_embeddings_rank_a_paraphrase_above_an_unrelated_sentence()
    {
        var model = LoadedModel.Load(null);
        using var ort = new OrtModelRunner(model, threads: 1);
        var embedder = SentenceEncoders.OnnxRuntime(ort, model.Model, SentenceTokenizer.Default, DefaultModel.MaxSequenceLength);
        var e = embedder.Embed(Pairs);
        Assert.Equal(DefaultModel.EmbeddingSize, e[0].Length);
        var paraphrase = EmbeddingMath.CosineSimilarity(e[0], e[1]);
        var unrelated = EmbeddingMath.CosineSimilarity(e[0], e[2]);
        Assert.True(paraphrase > 0.5f, $"paraphrase {paraphrase}");
        Assert.True(paraphrase > unrelated + 0.3f, $"paraphrase {paraphrase}, unrelated {unrelated}");
    }

    [Fact]
    [Trait(Needs.Category, Needs.Operators)]
    public void Sparrow_embeddings_of_fifty_sentences_match_onnx_runtime_to_1e_4()
    {
        var sample = Sample();
        var model = LoadedModel.Load(null);
        using var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = 2 });
        using var ort = new OrtModelRunner(model, threads: 2);
        var ours = SentenceEncoders.Sparrow(session, SentenceTokenizer.Default, DefaultModel.MaxSequenceLength).Embed(sample, batchSize: 16);
        var theirs = SentenceEncoders.OnnxRuntime(ort, model.Model, SentenceTokenizer.Default, DefaultModel.MaxSequenceLength).Embed(sample, batchSize: 16);
        Assert.Equal(50, ours.Length);
        var worst = 0f;
        for (var i = 0; i < sample.Length; i++)
            for (var d = 0; d < DefaultModel.EmbeddingSize; d++)
                worst = MathF.Max(worst, MathF.Abs(ours[i][d] - theirs[i][d]));
        Assert.True(worst <= 1e-4f, $"largest difference {worst}");
    }

    [Fact]
    [Trait(Needs.Category, Needs.Operators)]
    public void Embed_command_scores_the_paraphrase_pair_highest()
    {
        var r = CliRunner.Run("embed", Pairs[0], Pairs[1], Pairs[2]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("all-MiniLM-L6-v2", r.Output);
        Assert.Contains("384 dimensions", r.Output);
        Assert.Contains("Most similar: #1 and #2", r.Output);
    }

    [Fact]
    [Trait(Needs.Category, Needs.Operators)]
    public void Embed_with_the_model_given_by_path_gives_the_same_table()
    {
        var embedded = CliRunner.Run("embed", Pairs[0], Pairs[2]);
        var byPath = CliRunner.Run("embed", "--model", CliRunner.MiniLmPath, Pairs[0], Pairs[2]);
        Assert.True(byPath.ExitCode == 0, byPath.ToString());
        static string Table(string output) => output[output.IndexOf("cosine similarity", StringComparison.Ordinal)..];
        Assert.Equal(Table(embedded.Output), Table(byPath.Output));
    }
}
