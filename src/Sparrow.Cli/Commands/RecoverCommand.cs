using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow recover PRUNED.onnx [--teacher DENSE.onnx] (--steps N | --budget 0.2 --original-steps N) -o OUT.onnx</c>:
/// fine-tunes a pruned sentence encoder by distillation from its dense teacher, with the pruned weights kept at
/// exactly zero, and writes the recovered model atomically (never over its input).
/// </summary>
internal static class RecoverCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("model") { Description = "The pruned sentence encoder (.onnx); its zeros are the masks, kept through training." };
        var teacher = new Option<string?>("--teacher")
        {
            Description = "The dense model to distil from (default: the embedded all-MiniLM-L6-v2, when the pruned model is a copy of it).",
        };
        var steps = new Option<long?>("--steps") { Description = "Training steps. Give this or --budget." };
        var budget = new Option<double?>("--budget") { Description = "Steps as a fraction of --original-steps (e.g. 0.2: a fifth of the original training). Give this or --steps." };
        var originalSteps = new Option<long?>("--original-steps") { Description = "The steps the dense model was trained for; --budget is a fraction of it." };
        var data = new Option<string?>("--data")
        {
            Description = "Texts to distil on, one per line (default: Sparrow's 2,048 real sentences from fortunes categories that 'sparrow eval' never reads).",
        };
        var loss = new Option<string>("--loss")
        {
            Description = "mse (the token states' mean squared error against the teacher's) or cosine (1 - cosine of the mean-pooled sentence embeddings).",
            DefaultValueFactory = _ => "mse",
        };
        var learningRate = new Option<double>("--lr") { Description = "AdamW's peak learning rate (10% warm-up, then cosine decay to 0).", DefaultValueFactory = _ => 2e-4 };
        var batch = new Option<int>("--batch") { Description = "Sentences per step.", DefaultValueFactory = _ => 16 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Each text is cut to this many tokens ([CLS] and [SEP] included).", DefaultValueFactory = _ => 64 };
        var seed = new Option<int>("--seed") { Description = "Seed of the order of the texts.", DefaultValueFactory = _ => 0 };
        var threads = CommonOptions.Threads();
        var fidelity = new Option<int>("--fidelity-sentences")
        {
            Description = "Training texts on which the fidelity to the teacher (mean cosine of sentence embeddings) is measured before and after; 0 skips it.",
            DefaultValueFactory = _ => 64,
        };
        var checkpoint = new Option<string?>("--checkpoint")
        {
            Description = "Checkpoint file (weights, masks, optimizer state, step), written atomically every --checkpoint-every steps; if it exists, training resumes from it.",
        };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints.", DefaultValueFactory = _ => 50 };
        var energy = new EnergyOptions();
        var output = new Option<string>("--output", "-o") { Description = "Path of the recovered .onnx model to write.", Required = true };
        var json = JsonOutput.Option("the run (settings, loss, fidelity, energy per epoch and in total)");
        var command = new Command("recover", "Fine-tunes a pruned sentence encoder by distillation from the dense model, pruned weights kept at zero; reports loss, fidelity and energy.")
        {
            model, teacher, steps, budget, originalSteps, data, loss, learningRate, batch, maxTokens, seed, threads, fidelity, checkpoint, checkpointEvery, output, json,
        };
        energy.AddTo(command);
        command.SetAction(parse =>
        {
            var settings = new RecoveryRun.Settings(parse.GetValue(model)!, parse.GetValue(teacher), ResolveSteps(parse.GetValue(steps), parse.GetValue(budget), parse.GetValue(originalSteps)),
                parse.GetValue(data), ParseLoss(parse.GetValue(loss)), parse.GetValue(learningRate), parse.GetValue(batch), parse.GetValue(maxTokens), parse.GetValue(seed),
                CommonOptions.ResolveThreads(parse.GetValue(threads)), parse.GetValue(fidelity), parse.GetValue(checkpoint), parse.GetValue(checkpointEvery),
                parse.GetValue(output)!, JsonOutput.Target(parse, json), energy.Read(parse));
            return RecoveryRun.Run(context, settings);
        });
        return command;
    }

    /// <summary>The steps to train: --steps, or --budget × --original-steps; exactly one of the two ways.</summary>
    internal static long ResolveSteps(long? steps, double? budget, long? originalSteps)
    {
        if (steps is not null && budget is not null) throw new UsageException("give --steps or --budget (with --original-steps), not both.");
        if (steps is null && budget is null) throw new UsageException("give --steps N, or --budget FRACTION with --original-steps N (e.g. --budget 0.2 --original-steps 10000).");
        if (steps is { } s)
        {
            if (originalSteps is not null) throw new UsageException("--original-steps goes with --budget; with --steps it means nothing.");
            if (s < 1) throw new UsageException($"--steps must be 1 or more, got {s}.");
            return s;
        }
        var b = budget!.Value;
        if (!(b > 0 && b <= 1)) throw new UsageException($"--budget must be above 0 and at most 1 (a fraction of the original steps), got {b.ToString(CultureInfo.InvariantCulture)}.");
        if (originalSteps is not { } original) throw new UsageException("--budget needs --original-steps N: the steps the dense model was trained for.");
        if (original < 1) throw new UsageException($"--original-steps must be 1 or more, got {original}.");
        return Math.Max(1, (long)Math.Round(b * original));
    }

    private static Sparrow.Training.Recovery.SentenceDistillationLoss ParseLoss(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "mse" => Sparrow.Training.Recovery.SentenceDistillationLoss.HiddenStateMse,
        "cosine" => Sparrow.Training.Recovery.SentenceDistillationLoss.EmbeddingCosine,
        _ => throw new UsageException($"--loss '{value}' is not a loss; use mse or cosine."),
    };
}
