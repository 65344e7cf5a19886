using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>Embeddings of texts, one row per text, in order (e.g. a sentence encoder's).</summary>
public delegate float[][] TextEmbedder(IReadOnlyList<string> texts);

/// <summary>
/// How well one encoder's embeddings serve one task: accuracy on the test split of a logistic regression trained on
/// the training split's embeddings. <see cref="StandardError"/> is the binomial standard error of that accuracy;
/// two encoders scored on the same split differ by less noise than that, since they judge the same items. For a
/// cross-validated task, <see cref="TestItems"/> counts every item (each scored once), <see cref="TrainItems"/> is the
/// folds' mean training size and <see cref="L2"/> the median of the folds' chosen strengths.
/// </summary>
public sealed record TaskResult(string Task, int Classes, int TrainItems, int TestItems, double Accuracy, double StandardError, double L2, double Seconds, double EmbedSeconds)
{
    /// <summary>Whether each test item (in the split's order) was classified right: what paired comparisons need.</summary>
    [JsonIgnore]
    public IReadOnlyList<bool> Correct { get; init; } = [];

    /// <summary>
    /// Mean cross-entropy (natural log) of the test items under their classifier: a smooth quality score that, unlike
    /// accuracy, moves with every item's predicted probability (e.g. to compare pruned models on a development task).
    /// </summary>
    public double LogLoss { get; init; }

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

    private TextClassificationTask(LabelledDataset dataset, int folds, int[] foldOf)
    {
        Dataset = dataset;
        Folds = folds;
        _foldOf = foldOf;
        Split = new DatasetSplit(FoldItems(0, inFold: false), FoldItems(0, inFold: true));
    }

    private readonly int[]? _foldOf;

    /// <summary>
    /// 0 for a task scored on one train/test <see cref="Split"/>; K for a K-fold cross-validated one, where every item
    /// of <see cref="Dataset"/> is a test item exactly once, classified by a model trained on the other K−1 folds.
    /// </summary>
    public int Folds { get; }

    /// <summary>
    /// The items scored, in the order of <see cref="TaskResult.Correct"/>: the split's test items, or with
    /// <see cref="Folds"/> every item of <see cref="Dataset"/>.
    /// </summary>
    public IReadOnlyList<LabelledText> TestItems => Folds > 0 ? Dataset.Items : Split.Test;

    /// <summary>The texts an encoder embeds for this task: training and test items, each once.</summary>
    public int ItemCount => Folds > 0 ? Dataset.Items.Count : Split.Train.Count + Split.Test.Count;

    /// <summary>The items of <paramref name="fold"/> (or, with <paramref name="inFold"/> false, of every other fold), in data set order.</summary>
    private LabelledText[] FoldItems(int fold, bool inFold) => Dataset.Items.Where((_, i) => (_foldOf![i] == fold) == inFold).ToArray();

    /// <summary>The data set the items come from.</summary>
    public LabelledDataset Dataset { get; }

    /// <summary>The training and test items.</summary>
    public DatasetSplit Split { get; }

    /// <summary>The data set's name.</summary>
    public string Name => Dataset.Name;

    /// <summary>At most <paramref name="limit"/> items of <paramref name="dataset"/> (balanced per class), split stratified.</summary>
    public static TextClassificationTask Prepare(LabelledDataset dataset, int limit = DefaultLimit, double testFraction = DefaultTestFraction, int seed = 0) =>
        PrepareSplit(dataset.Sample(limit, seed), testFraction, seed);

    /// <summary>
    /// <paramref name="sample"/> as it is (no further sampling), split stratified: e.g. after
    /// <see cref="LabelledDataset.SamplePerClass"/>. <c>Prepare(d, limit, f, seed)</c> is
    /// <c>PrepareSplit(d.Sample(limit, seed), f, seed)</c>.
    /// </summary>
    public static TextClassificationTask PrepareSplit(LabelledDataset sample, double testFraction = DefaultTestFraction, int seed = 0) =>
        new(sample, StratifiedSplit.Split(sample, testFraction, seed));

    /// <summary>
    /// <paramref name="sample"/> as it is, in <paramref name="folds"/> stratified folds (seeded): <see cref="Evaluate"/> then
    /// scores every item once, with a classifier trained on the other folds.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 folds, or a class with fewer items than folds.</exception>
    public static TextClassificationTask PrepareCrossValidated(LabelledDataset sample, int folds, int seed = 0)
    {
        if (folds < 2) throw new ArgumentException($"Cross-validation needs at least 2 folds, got {folds}.", nameof(folds));
        var counts = sample.ClassCounts();
        var smallest = Array.IndexOf(counts, counts.Min());
        if (counts[smallest] < folds)
            throw new ArgumentException($"Class '{sample.ClassNames[smallest]}' of task '{sample.Name}' holds {counts[smallest]} items, fewer than the {folds} folds; every fold needs one of each class.", nameof(folds));
        return new TextClassificationTask(sample, folds, StratifiedFolds.Assign(sample, folds, seed));
    }

    /// <summary>The fold of each item of <see cref="Dataset"/>, by index (cross-validated tasks only).</summary>
    internal IReadOnlyList<int> FoldOf => _foldOf ?? throw new InvalidOperationException("This task has one train/test split, no folds.");

    /// <summary>
    /// Embeds the task's texts with <paramref name="embed"/>, trains the classifier, scores the test items; with
    /// <see cref="Folds"/>, once per fold (the folds in parallel, each deterministic), every item scored once.
    /// </summary>
    public TaskResult Evaluate(TextEmbedder embed, int seed = 0)
    {
        if (Folds > 0) return EvaluateCrossValidated(embed, seed);
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
        return new TaskResult(Name, Dataset.ClassNames.Count, trainY.Length, testY.Length, accuracy, standardError, l2, clock.Elapsed.TotalSeconds, embedSeconds)
        {
            Correct = correct,
            LogLoss = model.LogLoss(testX, testY),
        };
    }

    private TaskResult EvaluateCrossValidated(TextEmbedder embed, int seed)
    {
        var clock = Stopwatch.StartNew();
        var items = Dataset.Items;
        var embeddings = embed(items.Select(i => i.Text).ToArray());
        var embedSeconds = clock.Elapsed.TotalSeconds;
        if (embeddings.Length != items.Count) throw new InvalidOperationException($"The embedder returned {embeddings.Length} embeddings for {items.Count} texts.");
        var foldOf = _foldOf!;
        var correct = new bool[items.Count];
        var l2s = new double[Folds];
        var trainCounts = new int[Folds];
        var losses = new double[Folds]; // each fold's summed cross-entropy over its test items
        // Each fold writes only its own items' results and its own L2: the outcome does not depend on the schedule.
        Parallel.For(0, Folds, fold =>
        {
            var trainRows = Enumerable.Range(0, items.Count).Where(i => foldOf[i] != fold).ToArray();
            var testRows = Enumerable.Range(0, items.Count).Where(i => foldOf[i] == fold).ToArray();
            var trainX = trainRows.Select(r => embeddings[r]).ToArray();
            var train = trainRows.Select(r => items[r]).ToArray();
            var l2 = ChooseL2(trainX, train, seed);
            var model = LogisticRegression.Fit(trainX, train.Select(i => i.Label).ToArray(), Dataset.ClassNames.Count, l2);
            foreach (var r in testRows) correct[r] = model.Predict(embeddings[r]) == items[r].Label;
            losses[fold] = model.LogLoss(testRows.Select(r => embeddings[r]).ToArray(), testRows.Select(r => items[r].Label).ToArray()) * testRows.Length;
            l2s[fold] = l2;
            trainCounts[fold] = train.Length;
        });
        var accuracy = (double)correct.Count(c => c) / correct.Length;
        var standardError = Math.Sqrt(accuracy * (1 - accuracy) / correct.Length);
        // One number for the folds' L2 strengths: their median (the lower middle one for an even count).
        var medianL2 = l2s.Order().ElementAt((Folds - 1) / 2);
        return new TaskResult(Name, Dataset.ClassNames.Count, (int)Math.Round(trainCounts.Average()), correct.Length, accuracy, standardError, medianL2,
            clock.Elapsed.TotalSeconds, embedSeconds) { Correct = correct, LogLoss = losses.Sum() / correct.Length };
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
