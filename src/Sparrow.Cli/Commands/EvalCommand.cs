using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Sparrow.Cli.Execution;
using Sparrow.Data.Evaluation;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Runtime;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow eval PRUNED.onnx [MORE.onnx ...]</c>: how close each (pruned) sentence encoder stays to a reference
/// (the embedded dense MiniLM unless <c>--reference</c>): the cosine between their embeddings of held-out sentences.
/// </summary>
internal static class EvalCommand
{
    internal sealed record Settings(IReadOnlyList<string> Models, string? Reference, string? Sentences, int Threads, string? Markdown, string? Json);

    internal sealed record Result(string Model, double MeanCosine, double MinCosine, int Sentences);

    public static Command Create(CommandContext context)
    {
        var models = new Argument<string[]>("models") { Description = "Sentence encoders (.onnx) to judge, e.g. pruned copies of the reference.", Arity = ArgumentArity.OneOrMore };
        var reference = new Option<string?>("--reference") { Description = "The model to compare with (default: the embedded all-MiniLM-L6-v2)." };
        var sentences = new Option<string?>("--sentences") { Description = "Held-out sentences, one per line (default: Sparrow's 64, none of them in the calibration sample)." };
        var threads = CommonOptions.Threads();
        var markdown = new Option<string?>("--markdown") { Description = "Append the results as a Markdown table to this file, with the command that made them." };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON to this file." };
        var command = new Command("eval", "Embedding fidelity: the mean and lowest cosine between each model's and the reference's embeddings of held-out sentences.")
        {
            models, reference, sentences, threads, markdown, json,
        };
        command.SetAction(parse => Run(context, new Settings(parse.GetValue(models) ?? [], parse.GetValue(reference), parse.GetValue(sentences),
            parse.GetValue(threads), parse.GetValue(markdown), parse.GetValue(json))));
        return command;
    }

    internal static int Run(CommandContext context, Settings settings)
    {
        if (settings.Models.Count == 0) throw new UsageException("give at least one model to evaluate.");
        var texts = ReadSentences(settings.Sentences);
        var threads = CommonOptions.ResolveThreads(settings.Threads);
        var reference = LoadedModel.Load(settings.Reference);
        var expected = Embed(reference, texts, threads);
        var results = new List<Result>();
        foreach (var path in settings.Models)
        {
            var model = LoadedModel.Load(path);
            var actual = Embed(model, texts, threads);
            if (actual[0].Length != expected[0].Length)
                throw new UsageException($"{model.DisplayName} embeds in {actual[0].Length} dimensions, the reference {reference.DisplayName} in {expected[0].Length}.");
            var cosines = expected.Zip(actual, (e, a) => (double)TensorPrimitives.CosineSimilarity(e, a)).ToArray();
            results.Add(new Result(model.DisplayName, cosines.Average(), cosines.Min(), texts.Count));
        }

        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"embedding fidelity against {reference.DisplayName} on {texts.Count} held-out sentences"))
            .AddColumn("model").AddColumn(new TableColumn("mean cosine").RightAligned()).AddColumn(new TableColumn("lowest cosine").RightAligned());
        foreach (var r in results) table.AddRow(Markup.Escape(r.Model), Format(r.MeanCosine), Format(r.MinCosine));
        context.Console.Write(table);
        if (settings.Markdown is { } md) AppendMarkdown(md, context.CommandLine, reference.DisplayName, texts.Count, results);
        if (settings.Json is { } jsonPath)
            Sparrow.Graph.AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(new { command = context.CommandLine, reference = reference.DisplayName, results },
                new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
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

    private static float[][] Embed(LoadedModel model, IReadOnlyList<string> texts, int threads)
    {
        // Dense kernels: fidelity is about the weights, and timing kernels would only slow the run.
        using var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = "dense", UseKernelCache = false });
        if (!session.InputMetadata.Any(i => i.Name == "input_ids"))
            throw new UsageException($"{model.DisplayName} is not a sentence encoder (no input named input_ids); eval judges sentence embeddings.");
        return SentenceEncoders.Sparrow(session, SentenceTokenizer.Default, DefaultModel.MaxSequenceLength).Embed(texts);
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static void AppendMarkdown(string path, string commandLine, string reference, int sentences, IReadOnlyList<Result> results)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Embedding fidelity against {reference} on {sentences} held-out sentences, by `{commandLine}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC).");
        md.AppendLine();
        md.AppendLine("| model | mean cosine | lowest cosine |");
        md.AppendLine("|---|---:|---:|");
        foreach (var r in results) md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model} | {Format(r.MeanCosine)} | {Format(r.MinCosine)} |");
        md.AppendLine();
        File.AppendAllText(path, md.ToString());
    }
}
