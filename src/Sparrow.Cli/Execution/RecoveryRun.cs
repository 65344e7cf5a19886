using System.Diagnostics;
using System.Globalization;
using Sparrow.Cli.Commands;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Data.Training;
using Sparrow.Energy;
using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Training.Recovery;
using Spectre.Console;

namespace Sparrow.Cli.Execution;

/// <summary>
/// What <c>sparrow recover</c> does: load the pruned student and the dense teacher, tokenize the texts, distil with
/// the masks kept (<see cref="SentenceEncoderRecovery"/>), measure energy per epoch and in total, check that every
/// pruned weight is still exactly zero, and write the recovered model atomically.
/// </summary>
internal static class RecoveryRun
{
    internal sealed record Settings(string Model, string? Teacher, long Steps, string? Data, SentenceDistillationLoss Loss, double LearningRate, int Batch,
        int MaxTokens, int Seed, int Threads, int FidelitySentences, string? Checkpoint, int CheckpointEvery, string Output, string? Json, EnergySettings Energy);

    /// <summary>One epoch's (or the last partial epoch's) figures.</summary>
    internal sealed record EpochResult(int Epoch, long FirstStep, long LastStep, double MeanLoss, double Seconds, double Joules, double? CpuSeconds, double SentencesPerSecond);

    public static int Run(CommandContext context, Settings settings)
    {
        Check(settings);
        PruneFiles.RefuseInputAsOutput(settings.Model, settings.Output);
        if (settings.Teacher is { } t) PruneFiles.RefuseInputAsOutput(t, settings.Output);
        var footprint = settings.Energy.Footprint();
        var meter = settings.Energy.ChooseMeter();

        var student = LoadedModel.Load(settings.Model);
        var isMiniLMCopy = SameWeightsLayout(student.Model);
        LoadedModel teacher;
        if (settings.Teacher is { } teacherPath) teacher = LoadedModel.Load(teacherPath);
        else if (isMiniLMCopy) teacher = LoadedModel.Load(null);
        else throw new UsageException($"{student.DisplayName} is not a pruned copy of the embedded {DefaultModel.Name}; give its dense model with --teacher DENSE.onnx.");

        var texts = ReadTexts(settings.Data);
        var tokenizer = SentenceTokenizer.Default;
        var sentences = texts.Select(text => tokenizer.Encode(text, settings.MaxTokens)).ToArray();
        var hiddenState = HiddenStateOutput(student.Model, student.DisplayName);
        if (!teacher.Model.Graph.Outputs.Any(o => o.Name == hiddenState))
            throw new UsageException($"{teacher.DisplayName} has no output '{hiddenState}' to distil from; its outputs are {string.Join(", ", teacher.Model.Graph.Outputs.Select(o => o.Name))}.");

        using var teacherSession = new InferenceSession(teacher.Model, new SessionOptions { IntraOpThreads = settings.Threads, SparseKernel = "dense", UseKernelCache = false });
        Tensor<float> TeacherStates(IReadOnlyDictionary<string, Tensor> inputs)
        {
            var outputs = teacherSession.Run(inputs);
            Tensor<float>? states = null;
            foreach (var (name, value) in outputs)
            {
                if (name == hiddenState && value is Tensor<float> f) states = f;
                else value.Dispose();
            }
            return states ?? throw new UsageException($"{teacher.DisplayName}'s '{hiddenState}' is not float32.");
        }

        SentenceEncoderRecovery recovery;
        try
        {
            recovery = new SentenceEncoderRecovery(student.Model, TeacherStates, sentences, tokenizer.PaddingTokenId, new SentenceEncoderRecoveryOptions
            {
                HiddenStateOutput = hiddenState,
                Loss = settings.Loss,
                Steps = settings.Steps,
                BatchSize = settings.Batch,
                LearningRate = (float)settings.LearningRate,
                Seed = settings.Seed,
                Threads = settings.Threads,
            });
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{student.DisplayName}: {e.Message}");
        }
        var zerosBefore = recovery.Masked.Sum(p => p.Value.Length - p.Mask!.KeptIndices.Length);
        var weights = recovery.Trainer.Graph.Parameters.Where(p => p.Value.Rank >= 2).Sum(p => (long)p.Length);
        context.Info($"Distilling [bold]{Markup.Escape(student.DisplayName)}[/] from [bold]{Markup.Escape(teacher.DisplayName)}[/]: {recovery.Trainer.Graph.Parameters.Count} tensors train, "
            + $"{recovery.Masked.Count} pruned weights keep their {CommonOptions.FormatCount(zerosBefore)} zeros ({(double)zerosBefore / Math.Max(1, weights):P1} of the weight matrices).");
        context.Info($"Data: {Markup.Escape(DataDescription(settings.Data, texts.Count))}, cut to {settings.MaxTokens} tokens; {recovery.StepsPerEpoch} steps per epoch of {settings.Batch}.");

        long resumedFrom = 0;
        if (settings.Checkpoint is { } checkpointPath && File.Exists(checkpointPath))
        {
            try
            {
                recovery.LoadCheckpoint(checkpointPath);
            }
            catch (Exception e) when (e is InvalidDataException or KeyNotFoundException or EndOfStreamException)
            {
                throw new UsageException($"--checkpoint {checkpointPath}: {e.Message} Delete it to start afresh, or give the run's own model and settings.");
            }
            resumedFrom = recovery.Step;
            context.Info($"Resuming from {Markup.Escape(checkpointPath)} at step {resumedFrom} of {settings.Steps}.");
        }

        var fidelitySet = sentences.Take(settings.FidelitySentences).ToArray();
        double? fidelityBefore = fidelitySet.Length > 0
            ? context.Progress($"Fidelity on {fidelitySet.Length} training texts (before)", 1, step => { var f = recovery.Fidelity(fidelitySet); step.Advance(); return f; })
            : null;

        // Energy: one measurement for the whole training, one per epoch (the last may be partial).
        var epochs = new List<EpochResult>();
        var losses = new List<double>();
        EnergyReading total;
        var clock = Stopwatch.StartNew();
        using (var totalMeasurement = meter.Meter.Start())
        {
            var stepsThisRun = (int)Math.Min(int.MaxValue, settings.Steps - recovery.Step);
            context.Progress("Recovering", stepsThisRun, step =>
            {
                var epochStart = recovery.Step;
                var epochClock = Stopwatch.StartNew();
                var epochLoss = 0.0;
                var tokens = 0L;
                var sentencesDone = 0L;
                var measurement = meter.Meter.Start();
                try
                {
                    recovery.Run(result =>
                    {
                        losses.Add(result.Loss);
                        epochLoss += result.Loss;
                        tokens += recovery.LastBatchTokens;
                        sentencesDone += settings.Batch;
                        var seconds = clock.Elapsed.TotalSeconds;
                        step.Describe(string.Create(CultureInfo.InvariantCulture,
                            $"loss {result.Loss:0.00000}, {sentencesDone / Math.Max(seconds, 1e-9):0.0} sentences/s, {tokens / Math.Max(seconds, 1e-9):0} tokens/s"));
                        step.Advance();
                        var stepsDone = recovery.Step;
                        if (stepsDone % recovery.StepsPerEpoch == 0 || stepsDone == settings.Steps)
                        {
                            var reading = measurement.Stop();
                            measurement.Dispose();
                            var count = stepsDone - epochStart;
                            var epoch = new EpochResult((int)((stepsDone - 1) / recovery.StepsPerEpoch) + 1, epochStart + 1, stepsDone, epochLoss / count,
                                epochClock.Elapsed.TotalSeconds, reading.Joules, reading.CpuSeconds, count * settings.Batch / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9));
                            epochs.Add(epoch);
                            context.Info(string.Create(CultureInfo.InvariantCulture,
                                $"[grey]epoch {epoch.Epoch} (steps {epoch.FirstStep}-{epoch.LastStep}): mean loss {epoch.MeanLoss:0.00000}, {epoch.Seconds:0.0} s, {EnergyFormat.Joules(epoch.Joules)} {EnergyFormat.Kind(reading.Method)}[/]"));
                            epochStart = stepsDone;
                            epochLoss = 0;
                            epochClock.Restart();
                            measurement = meter.Meter.Start();
                        }
                    }, settings.Checkpoint, settings.CheckpointEvery);
                }
                finally
                {
                    measurement.Dispose();
                }
            });
            total = totalMeasurement.Stop();
        }
        var trainingSeconds = clock.Elapsed.TotalSeconds;

        double? fidelityAfter = fidelitySet.Length > 0
            ? context.Progress($"Fidelity on {fidelitySet.Length} training texts (after)", 1, step => { var f = recovery.Fidelity(fidelitySet); step.Advance(); return f; })
            : null;

        // The guarantee of masked training, checked rather than assumed: every pruned weight is still exactly zero.
        var broken = recovery.Masked.Sum(p => p.Mask!.PrunedIndices.Count(i => p.Value.Span[i] != 0f));
        if (broken > 0) throw new InvalidOperationException($"{broken} pruned weights became non-zero during training; the model was not written.");

        if (settings.Checkpoint is { } finalCheckpoint) recovery.SaveCheckpoint(finalCheckpoint);
        context.Progress("Writing the model", 1, step =>
        {
            PruneFiles.Save(student.Model, settings.Output);
            step.Advance();
        });

        var footprintTotal = footprint.Of(total.Joules);
        var stepsRun = settings.Steps - resumedFrom;
        var results = new
        {
            command = context.CommandLine,
            model = student.DisplayName,
            teacher = teacher.DisplayName,
            output = settings.Output,
            data = DataDescription(settings.Data, texts.Count),
            texts = texts.Count,
            loss = settings.Loss == SentenceDistillationLoss.EmbeddingCosine ? "cosine" : "mse",
            steps = settings.Steps,
            stepsRun,
            resumedFrom,
            batch = settings.Batch,
            maxTokens = settings.MaxTokens,
            learningRate = settings.LearningRate,
            seed = settings.Seed,
            threads = settings.Threads,
            maskedWeights = recovery.Masked.Count,
            zerosKept = zerosBefore,
            firstLoss = losses.Count > 0 ? JsonOutput.Number(losses[0]) : null,
            lastLoss = losses.Count > 0 ? JsonOutput.Number(losses[^1]) : null,
            fidelitySentences = fidelitySet.Length,
            fidelityBefore,
            fidelityAfter,
            seconds = trainingSeconds,
            stepsPerSecond = stepsRun / Math.Max(trainingSeconds, 1e-9),
            epochs = epochs.Select(e => new { e.Epoch, e.FirstStep, e.LastStep, meanLoss = JsonOutput.Number(e.MeanLoss), e.Seconds, e.Joules, e.CpuSeconds, e.SentencesPerSecond }),
            energy = new
            {
                method = EnergyFormat.MethodName(total.Method),
                estimated = total.IsEstimated,
                description = meter.Meter.Description,
                joules = total.Joules,
                kilowattHours = total.KilowattHours,
                cpuSeconds = total.CpuSeconds,
                gramsCo2e = footprintTotal.GramsCo2e,
                cost = footprintTotal.Cost,
                currency = footprint.Currency,
                footprint = footprint.Describe(),
                inputs = total.Inputs,
            },
        };
        JsonOutput.Write(context, settings.Json, results, () =>
        {
            var console = context.Console;
            var table = new Table().Border(TableBorder.Simple)
                .Title(Markup.Escape($"Energy per epoch ({MethodCaption(total.Method, meter.Meter.Description)})"))
                .AddColumn(new TableColumn("epoch").RightAligned()).AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("mean loss").RightAligned())
                .AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("sentences/s").RightAligned()).AddColumn(new TableColumn("energy").RightAligned());
            foreach (var e in epochs)
                table.AddRow(e.Epoch.ToString(CultureInfo.InvariantCulture), $"{e.FirstStep}-{e.LastStep}", e.MeanLoss.ToString("0.00000", CultureInfo.InvariantCulture),
                    e.Seconds.ToString("0.0", CultureInfo.InvariantCulture), e.SentencesPerSecond.ToString("0.0", CultureInfo.InvariantCulture), EnergyFormat.Joules(e.Joules));
            console.Write(table);
            if (losses.Count > 0)
                console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Loss ({results.loss}): {losses[0]:0.00000} at the first step, {losses[^1]:0.00000} at the last ({stepsRun} steps in {trainingSeconds:0.0} s)."));
            if (fidelityBefore is { } before && fidelityAfter is { } after)
                console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Fidelity to the teacher on {fidelitySet.Length} training texts (mean cosine of sentence embeddings): {before:0.0000} before, {after:0.0000} after."));
            console.MarkupLine($"Energy in total: {EnergyFormat.Joules(total.Joules)} {EnergyFormat.Kind(total.Method)}, {EnergyFormat.Grams(footprintTotal.GramsCo2e)}, {EnergyFormat.Money(footprintTotal.Cost, footprint.Currency)} ({Markup.Escape(footprint.Describe())}).");
            console.MarkupLine($"Kept all {CommonOptions.FormatCount(zerosBefore)} pruned weights at exactly zero. Wrote [bold]{Markup.Escape(settings.Output)}[/]."
                + (settings.Checkpoint is null ? "" : $" The checkpoint {Markup.Escape(settings.Checkpoint)} holds the final state; delete it before a new run."));
        });
        return ExitCodes.Success;
    }

    /// <summary>"estimated: ..." or "measured: ...", without repeating the word when the meter's description starts with it.</summary>
    private static string MethodCaption(EnergyMethod method, string description)
    {
        var kind = EnergyFormat.Kind(method);
        return description.StartsWith(kind, StringComparison.OrdinalIgnoreCase) ? description : $"{kind}: {description}";
    }

    private static void Check(Settings settings)
    {
        if (settings.Batch < 1) throw new UsageException($"--batch must be 1 or more, got {settings.Batch}.");
        if (settings.MaxTokens < 2) throw new UsageException($"--max-tokens must be 2 or more ([CLS] and [SEP]), got {settings.MaxTokens}.");
        if (!(settings.LearningRate > 0) || double.IsInfinity(settings.LearningRate)) throw new UsageException($"--lr must be above 0, got {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}.");
        if (settings.FidelitySentences < 0) throw new UsageException($"--fidelity-sentences must be 0 or more, got {settings.FidelitySentences}.");
        if (settings.CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be 1 or more, got {settings.CheckpointEvery}.");
        if (settings.Checkpoint is { } c && Path.GetFullPath(c) == Path.GetFullPath(settings.Output)) throw new UsageException("--checkpoint and --output are the same file; give two paths.");
        if (settings.Checkpoint is { } c2 && Path.GetFullPath(c2) == Path.GetFullPath(settings.Model)) throw new UsageException("--checkpoint is the input model; Sparrow never overwrites its input.");
        if (!File.Exists(settings.Model) && !Directory.Exists(settings.Model)) throw new UsageException($"{settings.Model}: no such file.");
    }

    private static IReadOnlyList<string> ReadTexts(string? path)
    {
        if (path is null) return RecoverySentences.Sample;
        if (!File.Exists(path)) throw new UsageException($"--data {path}: no such file.");
        var lines = SentenceLines.ReadFile(path);
        if (lines.Length == 0) throw new UsageException($"--data {path} holds no texts (one per line; blank lines and lines starting with # are skipped).");
        return lines;
    }

    private static string DataDescription(string? path, int count) =>
        path is null ? $"{count} built-in texts (fortunes categories that eval never reads)" : $"{count} texts from {path}";

    /// <summary>The token-state output: last_hidden_state, or else the first rank-3 float output.</summary>
    private static string HiddenStateOutput(Model model, string name)
    {
        var outputs = model.Graph.Outputs;
        if (outputs.Any(o => o.Name == DefaultModel.HiddenStateOutput)) return DefaultModel.HiddenStateOutput;
        return outputs.FirstOrDefault(o => o.ElementType == DataType.Float32 && o.Shape?.Count == 3)?.Name
            ?? throw new UsageException($"{name} has no token-state output ([batch, seq, dim] float32) to distil; its outputs are {string.Join(", ", outputs.Select(o => o.Name))}.");
    }

    /// <summary>Whether <paramref name="model"/> has the embedded MiniLM's initializers (names and shapes): a pruned copy of it.</summary>
    private static bool SameWeightsLayout(Model model)
    {
        var embedded = Sparrow.Graph.Onnx.OnnxImporter.Load(DefaultModel.OnnxBytes, sourceName: DefaultModel.Name);
        var a = model.Graph.Initializers;
        var b = embedded.Graph.Initializers;
        if (a.Count != b.Count) return false;
        foreach (var (name, tensor) in b)
            if (!a.TryGetValue(name, out var other) || !other.Shape.SequenceEqual(tensor.Shape)) return false;
        return true;
    }
}
