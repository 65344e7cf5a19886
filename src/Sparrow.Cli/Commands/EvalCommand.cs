using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Sparrow.Cli.Execution;
using Sparrow.Data.Embeddings;
using Sparrow.Data.Evaluation;
using Sparrow.Data.Evaluation.Tasks;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Runtime;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow eval PRUNED.onnx [MORE.onnx ...]</c>: how close each (pruned) sentence encoder stays to a reference
/// (the embedded dense MiniLM unless <c>--reference</c>): the cosine between their embeddings of held-out sentences;
/// with <c>--task</c>, also the accuracy of a classifier trained on each model's own embeddings of a labelled task.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Task texts are embedded at this many tokens at most: enough for a subject and the start of a mail.</summary>
    public const int TaskMaxTokens = 128;

    internal sealed record Settings(IReadOnlyList<string> Models, string? Reference, string? Sentences, int Threads, string? Markdown, string? Json,
        string? Task = null, string? Data = null, int? Limit = null)
    {
        /// <summary>Write this many training texts of each task to <see cref="WriteTraining"/> instead of evaluating.</summary>
        public string? WriteTraining { get; init; }

        /// <summary>Training texts per task for <see cref="WriteTraining"/>.</summary>
        public int TrainingCount { get; init; } = 64;

        /// <summary>Seed of each task's sample and train/test split; 0, the default, is the split every earlier figure used.</summary>
        public int SplitSeed { get; init; }

        /// <summary>K-fold cross-validation instead of one train/test split (null: the split, as before).</summary>
        public int? Folds { get; init; }

        /// <summary>"all" or a number: items sampled per class instead of --limit's (null: --limit or the task's default).</summary>
        public string? PerClass { get; init; }
    }

    /// <summary>One model's scores; <see cref="Tasks"/> is empty without --task.</summary>
    internal sealed record Result(string Model, double MeanCosine, double MinCosine, int Sentences, bool IsReference, IReadOnlyList<TaskResult> Tasks)
    {
        /// <summary>Per task, this model's accuracy minus the reference's on the same test items, with its paired standard error.</summary>
        public IReadOnlyList<PairedDifference> VersusReference { get; init; } = [];

        /// <summary>
        /// Per task, whether each test item (in the split's order) was classified right, as a string of 1s and 0s: lets
        /// any two models of one run be paired afterwards, not only each against the reference.
        /// </summary>
        public IReadOnlyDictionary<string, string> TestItemsCorrect =>
            Tasks.ToDictionary(t => t.Task, t => string.Concat(t.Correct.Select(c => c ? '1' : '0')));
    }

    internal sealed record PairedDifference(string Task, double Difference, double StandardError);

    public static Command Create(CommandContext context)
    {
        var models = new Argument<string[]>("models") { Description = "Sentence encoders (.onnx) to judge, e.g. pruned copies of the reference.", Arity = ArgumentArity.ZeroOrMore };
        var reference = new Option<string?>("--reference") { Description = "The model to compare with (default: the embedded all-MiniLM-L6-v2)." };
        var sentences = new Option<string?>("--sentences") { Description = "Held-out sentences, one per line (default: Sparrow's 64, none of them in the calibration sample)." };
        var task = new Option<string?>("--task")
        {
            Description = "Also score downstream classification tasks (default: none, embedding fidelity only): fortunes (topic of a fortune, 12 categories), spam (SpamAssassin ham or spam) or all; "
                + "each model, the reference too, gets a logistic regression trained on its own embeddings and its accuracy on a held-out half.",
        };
        var data = new Option<string?>("--data") { Description = $"Folder of the task data sets (default: ${TaskData.EnvironmentVariable} or ~/.cache/sparrow/datasets; scripts/install-datasets.sh fills it)." };
        var limit = new Option<int?>("--limit")
        {
            Description = "Items per task (default: fortunes 6000, spam 2400), sampled with a seed and an equal cap per class; half of them are test items.",
        };
        var writeTraining = new Option<string?>("--write-training")
        {
            Description = "Instead of evaluating: write texts drawn (seeded) from the TRAINING split of each --task, one per line, to this file, e.g. as task-domain "
                + "calibration for 'sparrow prune --calibration' or 'sparrow sensitivity --calibration'; test items are never written.",
        };
        var trainingCount = new Option<int>("--training-count") { Description = "--write-training: texts per task.", DefaultValueFactory = _ => 64 };
        var splitSeed = new Option<int>("--split-seed")
        {
            Description = "Seed of each task's item sample and train/test split (default 0, the split of all earlier figures); "
                + "another seed draws other items of the same sizes, to see whether a difference between models holds beyond one split.",
            DefaultValueFactory = _ => 0,
        };
        var folds = new Option<int?>("--folds")
        {
            Description = "Cross-validate in K stratified folds instead of one train/test split: every sampled item is a test item exactly once, classified by a "
                + "classifier trained on the other K-1 folds (seeded by --split-seed); accuracy over all items, paired per item as before (default: one 50/50 split).",
        };
        var perClass = new Option<string?>("--per-class")
        {
            Description = "Items sampled per class, a number or 'all' (every item; classes then keep their own, unequal sizes), instead of --limit "
                + "(default: --limit / classes, i.e. 500 for fortunes and 1200 for spam).",
        };
        var threads = CommonOptions.Threads();
        var markdown = new Option<string?>("--markdown") { Description = "Append the results as a Markdown table to this file, with the command that made them." };
        var json = JsonOutput.Option("the scores");
        var command = new Command("eval", "Embedding fidelity (the mean and lowest cosine between each model's and the reference's embeddings of held-out sentences) and, with --task, downstream task accuracy.")
        {
            models, reference, sentences, task, data, limit, perClass, folds, writeTraining, trainingCount, splitSeed, threads, markdown, json,
        };
        command.SetAction(parse => Run(context, new Settings(parse.GetValue(models) ?? [], parse.GetValue(reference), parse.GetValue(sentences),
            parse.GetValue(threads), parse.GetValue(markdown), JsonOutput.Target(parse, json), parse.GetValue(task), parse.GetValue(data), parse.GetValue(limit))
        {
            WriteTraining = parse.GetValue(writeTraining),
            TrainingCount = parse.GetValue(trainingCount),
            SplitSeed = parse.GetValue(splitSeed),
            Folds = parse.GetValue(folds),
            PerClass = parse.GetValue(perClass),
        }));
        return command;
    }

    internal static int Run(CommandContext context, Settings settings)
    {
        if (settings.WriteTraining is { } trainingPath) return WriteTrainingTexts(context, settings, trainingPath);
        if (settings.Models.Count == 0) throw new UsageException("give at least one model to evaluate.");
        var texts = ReadSentences(settings.Sentences);
        var threads = CommonOptions.ResolveThreads(settings.Threads);
        // The data first: a missing data set should stop the run before any model is embedded.
        var tasks = LoadTasks(settings);
        var reference = LoadedModel.Load(settings.Reference);
        var results = new List<Result>();
        // One bar per model: its held-out sentences, then every task's texts.
        var textsPerModel = texts.Count + tasks.Sum(t => t.ItemCount);
        float[][] expected = [];
        using (var session = OpenSession(reference, threads))
        {
            context.Progress($"Embedding with {reference.DisplayName} (reference)", tasks.Count > 0 ? textsPerModel : texts.Count, step =>
            {
                expected = SentenceEncoders.EmbedInChunks(Encoder(session, DefaultModel.MaxSequenceLength), texts, (done, _) => step.AdvanceTo(done));
                // Without tasks the reference scores 1 against itself and needs no row; with them, its accuracy is the baseline.
                if (tasks.Count > 0) results.Add(new Result(reference.DisplayName, 1.0, 1.0, texts.Count, true, ScoreTasks(session, tasks, step, texts.Count)));
            });
        }
        foreach (var path in settings.Models)
        {
            var model = LoadedModel.Load(path);
            using var session = OpenSession(model, threads);
            context.Progress($"Embedding with {model.DisplayName}", textsPerModel, step =>
            {
                var actual = SentenceEncoders.EmbedInChunks(Encoder(session, DefaultModel.MaxSequenceLength), texts, (done, _) => step.AdvanceTo(done));
                if (actual[0].Length != expected[0].Length)
                    throw new UsageException($"{model.DisplayName} embeds in {actual[0].Length} dimensions, the reference {reference.DisplayName} in {expected[0].Length}.");
                var cosines = expected.Zip(actual, (e, a) => (double)TensorPrimitives.CosineSimilarity(e, a)).ToArray();
                results.Add(new Result(model.DisplayName, cosines.Average(), cosines.Min(), texts.Count, false, ScoreTasks(session, tasks, step, texts.Count)));
            });
        }

        if (tasks.Count > 0)
        {
            var baseline = results[0];
            for (var i = 1; i < results.Count; i++)
                results[i] = results[i] with
                {
                    VersusReference = results[i].Tasks.Zip(baseline.Tasks, (task, reference) =>
                    {
                        var (difference, standardError) = task.Against(reference);
                        return new PairedDifference(task.Task, difference, standardError);
                    }).ToArray(),
                };
        }
        if (settings.Markdown is { } md) AppendMarkdown(md, context.CommandLine, reference.DisplayName, texts.Count, tasks, results);
        // The shape 'sparrow report' reads: keep these names.
        // Cross-validated: testItems = every item, trainItems = the folds' mean training size; classCounts = items per class.
        var taskInfo = tasks.Select(t => new
        {
            name = t.Name, classes = t.Dataset.ClassNames, trainItems = TrainItems(t), testItems = t.TestItems.Count, maxTokens = TaskMaxTokens, splitSeed = settings.SplitSeed,
            folds = t.Folds, perClass = settings.PerClass, classCounts = t.Dataset.ClassCounts(),
        });
        JsonOutput.Write(context, settings.Json, new { command = context.CommandLine, reference = reference.DisplayName, tasks = taskInfo, results },
            () => WriteTable(context.Console, reference.DisplayName, texts.Count, tasks, results));
        return ExitCodes.Success;
    }

    /// <summary>Longest text written by --write-training, in characters: about the 128 tokens the tasks are embedded at.</summary>
    private const int TrainingTextCharacters = 600;

    /// <summary>--write-training: a seeded sample of each task's training split (the same split eval trains on), one text per line.</summary>
    private static int WriteTrainingTexts(CommandContext context, Settings settings, string path)
    {
        if (settings.Task is null) throw new UsageException("--write-training needs --task (fortunes, spam or all): it writes texts from their training splits.");
        if (settings.Models.Count > 0) throw new UsageException("--write-training writes texts instead of evaluating; leave the models out.");
        if (settings.TrainingCount < 1) throw new UsageException($"--training-count must be at least 1; got {settings.TrainingCount}.");
        if (settings.Folds is not null) throw new UsageException("--write-training writes from the one train/test split; leave --folds out.");
        var lines = new List<string>();
        foreach (var task in LoadTasks(settings))
        {
            var random = new Random(0);
            var picked = task.Split.Train.OrderBy(_ => random.Next()).Take(settings.TrainingCount);
            foreach (var item in picked)
            {
                // One line each: whitespace (a fortune's line breaks) collapsed; a leading '#' would read as a comment.
                var text = string.Join(' ', item.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimStart('#').Trim();
                if (text.Length > TrainingTextCharacters) text = text[..TrainingTextCharacters];
                if (text.Length > 0) lines.Add(text);
            }
            context.Info($"{task.Name}: {Math.Min(settings.TrainingCount, task.Split.Train.Count)} of its {task.Split.Train.Count} training texts");
        }
        Sparrow.Graph.AtomicFile.WriteAllText(path, string.Join('\n', lines) + "\n");
        context.Info($"Wrote {lines.Count} texts to {Markup.Escape(path)}.");
        return ExitCodes.Success;
    }

    private static IReadOnlyList<string> ReadSentences(string? path)
    {
        if (path is null) return HeldOutSentences.Sample;
        if (!File.Exists(path)) throw new UsageException($"--sentences {path}: no such file.");
        var lines = SentenceLines.ReadFile(path);
        if (lines.Length == 0) throw new UsageException($"--sentences {path} holds no sentences (one per line; blank lines and lines starting with # are skipped).");
        return lines;
    }

    /// <summary>The tasks --task names, each sampled and split once so that every model is judged on the same items.</summary>
    private static IReadOnlyList<TextClassificationTask> LoadTasks(Settings settings)
    {
        if (settings.Task is null)
        {
            if (settings.Data is not null) throw new UsageException("--data is the folder of the --task data sets; give --task fortunes, spam or all.");
            if (settings.Folds is not null || settings.PerClass is not null)
                throw new UsageException($"{(settings.Folds is not null ? "--folds" : "--per-class")} applies to the --task data sets; give --task fortunes, spam or all.");
            return [];
        }
        var requested = settings.Task.Trim().ToLowerInvariant();
        var names = requested == "all" ? DownstreamTasks.Names
            : DownstreamTasks.Names.Contains(requested) ? [requested]
            : throw new UsageException($"--task '{settings.Task}' is not a task; use one of: {string.Join(", ", DownstreamTasks.Names)}, all.");
        if (settings.Folds is < 2) throw new UsageException($"--folds must be at least 2 (each item is tested once, by a classifier trained on the other folds); got {settings.Folds}.");
        if (settings.PerClass is not null && settings.Limit is not null) throw new UsageException("give --limit or --per-class, not both: both set how many items are sampled.");
        var perClassCap = ParsePerClass(settings.PerClass);
        var folder = settings.Data ?? TaskData.DefaultDirectory;
        var tasks = new List<TextClassificationTask>();
        foreach (var name in names)
        {
            LabelledDataset dataset;
            try
            {
                dataset = DownstreamTasks.Load(name, folder);
            }
            catch (DatasetNotFoundException e)
            {
                throw new UsageException(e.Message);
            }
            int? perClass;
            if (settings.PerClass is null)
            {
                var limit = settings.Limit ?? DownstreamTasks.DefaultLimit(name);
                if (limit < dataset.ClassNames.Count * 2)
                    throw new UsageException($"--limit {limit} is too small for task {name}: it has {dataset.ClassNames.Count} classes and needs at least 2 items of each.");
                perClass = limit / dataset.ClassNames.Count;
            }
            else perClass = perClassCap;
            // Sample(limit) is SamplePerClass(limit / classes): the defaults draw exactly the items they always drew.
            var sample = dataset.SamplePerClass(perClass, settings.SplitSeed);
            TextClassificationTask task;
            if (settings.Folds is { } k)
            {
                try
                {
                    task = TextClassificationTask.PrepareCrossValidated(sample, k, settings.SplitSeed);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--folds {k}: {e.Message}");
                }
            }
            else
            {
                task = TextClassificationTask.PrepareSplit(sample, seed: settings.SplitSeed);
                if (task.Split.Train.Count < dataset.ClassNames.Count || task.Split.Test.Count == 0)
                    throw new UsageException($"task {name} in {folder} holds too few items ({task.Dataset.Items.Count}) to train and test a classifier.");
            }
            tasks.Add(task);
        }
        return tasks;
    }

    /// <summary>--per-class: null for "all" (or when not given), else a number of at least 2 (one to train and one to test).</summary>
    private static int? ParsePerClass(string? value)
    {
        if (value is null || value.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return null;
        if (int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 2) return n;
        throw new UsageException($"--per-class '{value}' is not a number of items of at least 2 or 'all'.");
    }

    /// <summary>Training items per classifier: the split's, or the folds' mean.</summary>
    private static int TrainItems(TextClassificationTask task) =>
        task.Folds > 0 ? (int)Math.Round((double)task.ItemCount * (task.Folds - 1) / task.Folds) : task.Split.Train.Count;

    private static InferenceSession OpenSession(LoadedModel model, int threads)
    {
        // Dense kernels: fidelity is about the weights, and timing kernels would only slow the run.
        var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = "dense", UseKernelCache = false });
        if (!session.InputMetadata.Any(i => i.Name == "input_ids"))
        {
            session.Dispose();
            throw new UsageException($"{model.DisplayName} is not a sentence encoder (no input named input_ids); eval judges sentence embeddings.");
        }
        return session;
    }

    private static SentenceEmbedder Encoder(InferenceSession session, int maxTokens) => SentenceEncoders.Sparrow(session, SentenceTokenizer.Default, maxTokens);

    /// <param name="offset">Texts this model embedded before the tasks', for the progress bar.</param>
    private static IReadOnlyList<TaskResult> ScoreTasks(InferenceSession session, IReadOnlyList<TextClassificationTask> tasks, ProgressStep step, int offset)
    {
        if (tasks.Count == 0) return [];
        var encoder = Encoder(session, TaskMaxTokens);
        var results = new List<TaskResult>();
        foreach (var t in tasks)
        {
            var before = offset;
            results.Add(t.Evaluate(texts => SentenceEncoders.EmbedByLength(encoder, texts, (done, _) => step.AdvanceTo(before + done))));
            offset += t.ItemCount;
        }
        return results;
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Percent(double value) => (100 * value).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Each task's accuracy, and for models other than the reference its paired difference to the reference.</summary>
    private static IEnumerable<string> TaskCells(Result r) => r.Tasks.Select((t, i) => i < r.VersusReference.Count
        ? string.Create(CultureInfo.InvariantCulture, $"{Percent(t.Accuracy)} ({100 * r.VersusReference[i].Difference:+0.0;-0.0;0.0} ± {100 * r.VersusReference[i].StandardError:0.0})")
        : Percent(t.Accuracy));

    private static string TaskCaption(TextClassificationTask task, IReadOnlyList<Result> results)
    {
        var seconds = results.Select(r => r.Tasks.First(t => t.Task == task.Name).Seconds).ToArray();
        var se = results.Select(r => r.Tasks.First(t => t.Task == task.Name).StandardError).Max();
        var counts = task.Dataset.ClassCounts();
        var items = task.Folds > 0
            ? $"{task.ItemCount} items in {task.Folds} stratified folds, each item a test item once (its classifier trained on the other {task.Folds - 1} folds, about {TrainItems(task)} items)"
            : $"{task.Split.Train.Count} training and {task.Split.Test.Count} test items";
        var balance = counts.Min() == counts.Max() ? "" : $" (classes unbalanced: {counts.Min()} to {counts.Max()} items)";
        return string.Create(CultureInfo.InvariantCulture,
            $"{task.Name}: {task.Dataset.ClassNames.Count} classes, {items}{balance}, at most {TaskMaxTokens} tokens; "
            + $"accuracy in % (standard error up to {100 * se:0.0} points), in brackets the difference to the reference on the same items ± its paired standard error; {seconds.Average():0.0} s per model");
    }

    private static void WriteTable(IAnsiConsole console, string reference, int sentences, IReadOnlyList<TextClassificationTask> tasks, IReadOnlyList<Result> results)
    {
        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"embedding fidelity against {reference} on {sentences} held-out sentences"))
            .AddColumn("model").AddColumn(new TableColumn("mean cosine").RightAligned()).AddColumn(new TableColumn("lowest cosine").RightAligned());
        foreach (var task in tasks) table.AddColumn(new TableColumn(Markup.Escape($"{task.Name} acc. %")).RightAligned());
        foreach (var r in results)
            table.AddRow([Markup.Escape(r.Model + (r.IsReference ? " (reference)" : "")), Format(r.MeanCosine), Format(r.MinCosine), .. TaskCells(r)]);
        if (tasks.Count > 0) table.Caption(Markup.Escape(string.Join("\n", tasks.Select(t => TaskCaption(t, results)))));
        console.Write(table);
    }

    private static void AppendMarkdown(string path, string commandLine, string reference, int sentences, IReadOnlyList<TextClassificationTask> tasks, IReadOnlyList<Result> results)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Embedding fidelity against {reference} on {sentences} held-out sentences, by `{commandLine}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC).");
        foreach (var task in tasks) md.AppendLine().AppendLine("Task " + TaskCaption(task, results) + ".");
        md.AppendLine();
        md.AppendLine("| model | mean cosine | lowest cosine |" + string.Concat(tasks.Select(t => $" {t.Name} acc. % |")));
        md.AppendLine("|---|---:|---:|" + string.Concat(tasks.Select(_ => "---:|")));
        foreach (var r in results)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model}{(r.IsReference ? " (reference)" : "")} | {Format(r.MeanCosine)} | {Format(r.MinCosine)} |{string.Concat(TaskCells(r).Select(c => $" {c} |"))}");
        md.AppendLine();
        BenchOutput.AppendMarkdown(path, md.ToString(), title: null);
    }
}
