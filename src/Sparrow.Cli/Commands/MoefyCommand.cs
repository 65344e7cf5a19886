using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Pruning;
using Sparrow.Pruning.Conditional;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow moefy MODEL.onnx --experts 16 --k 4 -o OUT.onnx</c>: MoEfication of a BERT-style sentence encoder.
/// Each feed-forward block's neurons are split into experts by balanced k-means, a linear router is fitted on
/// calibration sentences, and the block becomes one ai.sparrow:MoE node that runs k experts per token.
/// </summary>
internal static class MoefyCommand
{
    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted: the embedded all-MiniLM-L6-v2");
        var experts = new Option<int>("--experts") { Description = "Experts per feed-forward block; the intermediate size must divide by it (default: 16).", DefaultValueFactory = _ => 16 };
        var k = new Option<int>("--k")
        {
            Description = "Experts each token runs, in every layer (default: 4); 0 picks the smallest k per layer whose output error on the calibration tokens is within --max-error.",
            DefaultValueFactory = _ => 4,
        };
        var maxError = new Option<double>("--max-error")
        {
            Description = "With --k 0: the largest relative squared error ‖y_moe − y‖²/‖y‖² of a block's output allowed per layer (default: 0.05).",
            DefaultValueFactory = _ => 0.05,
        };
        var calibration = new Option<string?>("--calibration")
        {
            Description = "A text file of calibration sentences, one per line (default: Sparrow's built-in recovery sentences, none of them held out for sparrow eval).",
        };
        var tokens = new Option<int>("--max-tokens") { Description = "Calibration tokens per layer at most (default: 2048).", DefaultValueFactory = _ => 2048 };
        var seed = new Option<int>("--seed") { Description = "Seed of the k-means start (default: 0).", DefaultValueFactory = _ => 0 };
        var threads = CommonOptions.Threads();
        var output = new Option<string>("--output", "-o") { Description = "Path of the .onnx model to write.", Required = true };
        var json = JsonOutput.Option("the per-layer choices and errors");
        var command = new Command("moefy", "Turns each feed-forward block of a sentence encoder into a mixture of experts (MoEfication): balanced k-means over the neurons, a router fitted on calibration sentences, k experts per token.")
        {
            model, experts, k, maxError, calibration, tokens, seed, threads, output, json,
        };
        command.SetAction(parse => Run(context, new Settings(parse.GetValue(model), parse.GetValue(output)!, parse.GetValue(experts), parse.GetValue(k),
            parse.GetValue(maxError), parse.GetValue(calibration), parse.GetValue(tokens), parse.GetValue(seed), parse.GetValue(threads)), JsonOutput.Target(parse, json)));
        return command;
    }

    internal sealed record Settings(string? Model, string Output, int Experts, int K, double MaxError, string? Calibration, int MaxTokens, int Seed, int Threads);

    internal static int Run(CommandContext context, Settings settings, string? json = null)
    {
        if (settings.Experts < 2) throw new UsageException($"--experts must be 2 or more, got {settings.Experts}.");
        if (settings.K < 0 || settings.K > settings.Experts) throw new UsageException($"--k must be between 0 (pick per layer) and --experts {settings.Experts}, got {settings.K}.");
        if (!(settings.MaxError >= 0)) throw new UsageException($"--max-error must be 0 or more, got {settings.MaxError.ToString(CultureInfo.InvariantCulture)}.");
        if (settings.MaxTokens < 1) throw new UsageException($"--max-tokens must be 1 or more, got {settings.MaxTokens}.");
        PruneFiles.RefuseInputAsOutput(settings.Model, settings.Output);
        var loaded = LoadedModel.Load(settings.Model);
        var inputs = loaded.Model.Graph.Inputs.Select(i => i.Name).ToArray();
        if (!inputs.Contains("input_ids"))
            throw new UsageException($"moefy calibrates on sentences, so it needs a sentence encoder (an input named input_ids); {loaded.DisplayName} takes {string.Join(", ", inputs)}.");
        var sentences = settings.Calibration is null ? Sparrow.Data.Training.RecoverySentences.Sample : PruneFiles.CalibrationSentences(settings.Calibration);
        var batches = Sparrow.Pruning.Calibration.CalibrationSentences.Batches(sentences, 16, inputNames: inputs);
        MoefyResult result;
        try
        {
            result = context.Progress("moefy", 1, step =>
            {
                var r = Moefier.Moefy(loaded.Model, new MoefySettings
                {
                    Experts = settings.Experts, K = settings.K, MaxRelativeError = settings.MaxError, MaxTokens = settings.MaxTokens,
                    Seed = settings.Seed, Threads = CommonOptions.ResolveThreads(settings.Threads),
                }, batches);
                step.Advance();
                return r;
            });
        }
        catch (PruningRequestException e)
        {
            throw new UsageException($"{loaded.DisplayName}: {e.Message}");
        }
        PruneFiles.Save(result.Model, settings.Output);
        var results = new
        {
            command = context.CommandLine,
            model = loaded.DisplayName,
            output = settings.Output,
            experts = settings.Experts,
            layers = result.Layers.Select(l => new
            {
                layer = l.Layer, experts = l.Experts, expertSize = l.ExpertSize, k = l.K, tokens = l.Tokens,
                relativeError = l.RelativeErrorByK[l.K - 1], relativeErrorByK = l.RelativeErrorByK, oracleRelativeErrorByK = l.OracleRelativeErrorByK,
            }).ToArray(),
        };
        JsonOutput.Write(context, json, results, () =>
        {
            foreach (var l in result.Layers)
                context.Detail($"layer {l.Layer}: k = {l.K} of {l.Experts} experts ({l.ExpertSize} neurons each), relative output error {l.RelativeErrorByK[l.K - 1]:F4} " +
                    $"(experts ranked by their true output norms: {l.OracleRelativeErrorByK[l.K - 1]:F4}) on {l.Tokens} calibration tokens");
            var ks = string.Join(", ", result.Layers.Select(l => l.K.ToString(CultureInfo.InvariantCulture)));
            context.Console.MarkupLine($"Wrote [bold]{Markup.Escape(settings.Output)}[/]: {result.Layers.Count} feed-forward blocks as {settings.Experts} experts each, k per layer {ks}.");
        });
        return ExitCodes.Success;
    }
}
