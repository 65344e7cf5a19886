using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>Embeddings of texts, one row per text, in order (e.g. a sentence encoder's).</summary>
public delegate float[][] TextEmbedder(IReadOnlyList<string> texts);

/// <summary>
/// How well one encoder's embeddings serve one task: accuracy on the test split of a logistic regression trained on
/// the training split's embeddings. <see cref="StandardError"/> is the binomial standard error of that accuracy;
/// two encoders scored on the same split differ by less noise than that, since they judge the same items.
/// </summary>
public sealed record TaskResult(string Task, int Classes, int TrainItems, int TestItems, double Accuracy, double StandardError, double L2, double Seconds, double EmbedSeconds)
{
    /// <summary>Whether each test item (in the split's order) was classified right: what paired comparisons need.</summary>
    [JsonIgnore]
    public IReadOnlyList<bool> Correct { get; init; } = [];

    /// <summary>
    /// This result's accuracy minus <paramref name="baseline"/>'s on the same test items, and the standard error of that
    /// paired difference (from the items that only one of the two got right), in accuracy units.
    /// </summary>
    public (double Difference, double StandardError) Against(TaskResult baseline)
    {
        if (Correct.Count != baseline.Correct.Count || Correct.Count == 0)
            throw new ArgumentException($"Results of task '{Task}' on different test items cannot be paired.", nameof(baseline));
        int onlyThis = 0, onlyBaseline = 0;
        for (var i = 0; i < Correct.Count; i++)
        {
            if (Correct[i] && !baseline.Correct[i]) onlyThis++;
            else if (!Correct[i] && baseline.Correct[i]) onlyBaseline++;
        }
        double n = Correct.Count, discordant = onlyThis + onlyBaseline, gap = onlyThis - onlyBaseline;
        return (gap / n, Math.Sqrt(Math.Max(0, discordant - gap * gap / n)) / n);
    }
}

/// <summary>
/// A downstream classification task for sentence encoders: a (sampled) labelled data set and one fixed stratified
/// split, so that every encoder is judged on the same items; each encoder gets its own classifier.
/// </summary>
public sealed class TextClassificationTask
{
    /// <summary>Items per task unless told otherwise (see <see cref="DownstreamTasks.DefaultLimit"/> for the CLI's per task).</summary>
    public const int DefaultLimit = 2400;

    /// <summary>Half the items are test items: more test items give sharper accuracies, fewer training items a weaker classifier.</summary>
    public const double DefaultTestFraction = 0.5;

    /// <summary>
    /// The L2 strengths tried; the one with the lowest log-loss on a held-out quarter of the training split wins.
    /// Log-loss rather than accuracy: accuracy on a few hundred items moves in steps and flipped the choice (and
    /// with it the test accuracy, by up to 2 points) between models whose embeddings barely differ.
    /// </summary>
    public static IReadOnlyList<double> L2Grid { get; } = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1];

    /// <summary>A task over <paramref name="dataset"/>, trained on <paramref name="split"/>'s training items and scored on its test items.</summary>
    /// <exception cref="ArgumentException">The split has no training or no test items.</exception>
    public TextClassificationTask(LabelledDataset dataset, DatasetSplit split)
    {
        if (split.Train.Count == 0 || split.Test.Count == 0) throw new ArgumentException($"Task '{dataset.Name}' needs training and test items.", nameof(split));
        Dataset = dataset;
        Split = split;
    }

    /// <summary>The data set the items come from.</summary>
    public LabelledDataset Dataset { get; }

    /// <summary>The training and test items.</summary>
    public DatasetSplit Split { get; }

    /// <summary>The data set's name.</summary>
    public string Name => Dataset.Name;

    /// <summary>At most <paramref name="limit"/> items of <paramref name="dataset"/> (balanced per class), split stratified.</summary>
    public static TextClassificationTask Prepare(LabelledDataset dataset, int limit = DefaultLimit, double testFraction = DefaultTestFraction, int seed = 0)
    {
        var sample = dataset.Sample(limit, seed);
        return new TextClassificationTask(sample, StratifiedSplit.Split(sample, testFraction, seed));
    }

    /// <summary>Embeds the split's texts with <paramref name="embed"/>, trains the classifier, scores the test split.</summary>
    public TaskResult Evaluate(TextEmbedder embed, int seed = 0)
    {
        var clock = Stopwatch.StartNew();
        var texts = Split.Train.Concat(Split.Test).Select(i => i.Text).ToArray();
        var embeddings = embed(texts);
        var embedSeconds = clock.Elapsed.TotalSeconds;
        if (embeddings.Length != texts.Length) throw new InvalidOperationException($"The embedder returned {embeddings.Length} embeddings for {texts.Length} texts.");
        var trainX = embeddings[..Split.Train.Count];
        var testX = embeddings[Split.Train.Count..];
        var trainY = Split.Train.Select(i => i.Label).ToArray();
        var testY = Split.Test.Select(i => i.Label).ToArray();
        var l2 = ChooseL2(trainX, Split.Train, seed);
        var model = LogisticRegression.Fit(trainX, trainY, Dataset.ClassNames.Count, l2);
        var correct = testX.Select((x, i) => model.Predict(x) == testY[i]).ToArray();
        var accuracy = (double)correct.Count(c => c) / correct.Length;
        var standardError = Math.Sqrt(accuracy * (1 - accuracy) / testY.Length);
        return new TaskResult(Name, Dataset.ClassNames.Count, trainY.Length, testY.Length, accuracy, standardError, l2, clock.Elapsed.TotalSeconds, embedSeconds) { Correct = correct };
    }

    /// <summary>The regularisation used when the training half is too small to hold out a validation part.</summary>
    public const double FallbackL2 = 1e-2;

    private double ChooseL2(float[][] trainX, IReadOnlyList<LabelledText> train, int seed)
    {
        // Split the training items (by index, through their texts) into fitting and validation parts.
        var index = new Dictionary<LabelledText, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < train.Count; i++) index[train[i]] = i;
        var inner = StratifiedSplit.Split(new LabelledDataset(Name, Dataset.ClassNames, train), 0.25, seed + 1);
        var fitRows = inner.Train.Select(i => index[i]).ToArray();
        var validationRows = inner.Test.Select(i => index[i]).ToArray();
        // With one training item per class nothing is left to validate on: keep a moderate, fixed strength.
        if (validationRows.Length == 0 || fitRows.Length == 0) return FallbackL2;
        var best = L2Grid[^1];
        var bestLoss = double.PositiveInfinity;
        // From the strongest regularisation down: a weaker one must do strictly better to win.
        foreach (var l2 in L2Grid.Reverse())
        {
            var model = LogisticRegression.Fit(fitRows.Select(r => trainX[r]).ToArray(), fitRows.Select(r => train[r].Label).ToArray(), Dataset.ClassNames.Count, l2);
            var loss = model.LogLoss(validationRows.Select(r => trainX[r]).ToArray(), validationRows.Select(r => train[r].Label).ToArray());
            if (loss < bestLoss)
            {
                best = l2;
                bestLoss = loss;
            }
        }
        return best;
    }
}
