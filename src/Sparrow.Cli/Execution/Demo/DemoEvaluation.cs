using System.Numerics.Tensors;
using Sparrow.Cli.Commands;
using Sparrow.Data.Evaluation;
using Sparrow.Data.Evaluation.Samples;
using Sparrow.Data.Evaluation.Tasks;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Runtime;

namespace Sparrow.Cli.Execution.Demo;

/// <summary>
/// The demo's quality check, as <c>sparrow eval --task all</c> makes it but on the task samples shipped in
/// Sparrow.Data: embedding fidelity (cosine to the dense model's embeddings of held-out sentences) and the accuracy
/// of a classifier trained on each model's own embeddings. Results use eval's records, so the JSON has its shape.
/// </summary>
internal static class DemoEvaluation
{
    /// <summary>The shipped samples, each split once so that every model is judged on the same items.</summary>
    public static IReadOnlyList<TextClassificationTask> LoadTasks(DemoSettings settings) =>
        TaskSamples.Names.Select(name =>
        {
            var sample = TaskSamples.Load(name);
            var limit = (name == FortunesTopics.Name ? settings.FortunesItems : settings.SpamItems) ?? sample.Items.Count;
            return TextClassificationTask.Prepare(sample, Math.Min(limit, sample.Items.Count));
        }).ToArray();

    /// <summary>Scores the dense model (the reference, first row) and each variant; one progress step per model.</summary>
    public static IReadOnlyList<EvalCommand.Result> Run(Model dense, string denseName, IReadOnlyList<(string Name, Model Model)> variants,
        IReadOnlyList<string> sentences, IReadOnlyList<TextClassificationTask> tasks, int threads, ProgressStep progress)
    {
        var results = new List<EvalCommand.Result>();
        float[][] expected;
        using (var session = OpenSession(dense, threads))
        {
            expected = Encoder(session, DefaultModel.MaxSequenceLength).Embed(sentences);
            results.Add(new EvalCommand.Result(denseName, 1.0, 1.0, sentences.Count, true, ScoreTasks(session, tasks)));
        }
        progress.Advance(denseName);
        foreach (var (name, model) in variants)
        {
            using var session = OpenSession(model, threads);
            var actual = Encoder(session, DefaultModel.MaxSequenceLength).Embed(sentences);
            var cosines = expected.Zip(actual, (e, a) => (double)TensorPrimitives.CosineSimilarity(e, a)).ToArray();
            var scores = ScoreTasks(session, tasks);
            results.Add(new EvalCommand.Result(name, cosines.Average(), cosines.Min(), sentences.Count, false, scores)
            {
                VersusReference = scores.Zip(results[0].Tasks, (task, reference) =>
                {
                    var (difference, standardError) = task.Against(reference);
                    return new EvalCommand.PairedDifference(task.Task, difference, standardError);
                }).ToArray(),
            });
            progress.Advance(name);
        }
        return results;
    }

    /// <summary>The JSON <c>sparrow eval --json</c> writes, for these results.</summary>
    public static object Json(string commandLine, string reference, IReadOnlyList<TextClassificationTask> tasks, IReadOnlyList<EvalCommand.Result> results) => new
    {
        command = commandLine,
        reference,
        tasks = tasks.Select(t => new { name = t.Name, classes = t.Dataset.ClassNames, trainItems = t.Split.Train.Count, testItems = t.Split.Test.Count, maxTokens = EvalCommand.TaskMaxTokens }),
        results,
    };

    /// <summary>The held-out sentences the demo uses: the first <paramref name="count"/> of Sparrow's 64.</summary>
    public static IReadOnlyList<string> Sentences(int count) => HeldOutSentences.Sample.Take(count).ToArray();

    private static InferenceSession OpenSession(Model model, int threads) =>
        // Dense kernels, as eval does: fidelity is about the weights, and choosing kernels by timing would only slow this step.
        new(model, new SessionOptions { IntraOpThreads = threads, SparseKernel = "dense", UseKernelCache = false });

    private static Sparrow.Data.Embeddings.SentenceEmbedder Encoder(InferenceSession session, int maxTokens) =>
        SentenceEncoders.Sparrow(session, SentenceTokenizer.Default, maxTokens);

    private static IReadOnlyList<TaskResult> ScoreTasks(InferenceSession session, IReadOnlyList<TextClassificationTask> tasks)
    {
        var encoder = Encoder(session, EvalCommand.TaskMaxTokens);
        return tasks.Select(t => t.Evaluate(texts => SentenceEncoders.EmbedByLength(encoder, texts))).ToArray();
    }
}
