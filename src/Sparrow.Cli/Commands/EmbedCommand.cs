using System.CommandLine;
using Sparrow.Cli.Execution;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Runtime;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary><c>sparrow embed "text" "text" ...</c>: sentence embeddings and their pairwise similarities.</summary>
internal static class EmbedCommand
{
    public static Command Create(CommandContext context)
    {
        var texts = new Argument<string[]>("texts") { Description = "The texts to embed.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "An ONNX sentence encoder with BERT-style inputs (default: the embedded all-MiniLM-L6-v2)." };
        var vocab = new Option<string?>("--vocab") { Description = "WordPiece vocab for --model (default: the embedded model's, uncased)." };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text at most, [CLS] and [SEP] included; longer texts are cut.", DefaultValueFactory = _ => DefaultModel.MaxSequenceLength };
        var threads = CommonOptions.Threads();
        var json = JsonOutput.Option("the embeddings and similarities");
        var command = new Command("embed", "Embeds texts with a sentence encoder (the embedded all-MiniLM-L6-v2 unless --model is given) and prints the cosine similarity of every pair.")
        {
            texts, model, vocab, maxLength, threads, json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(texts) ?? [], parse.GetValue(model), parse.GetValue(vocab), parse.GetValue(maxLength), parse.GetValue(threads),
            JsonOutput.Target(parse, json)));
        return command;
    }

    internal static int Run(CommandContext context, string[] texts, string? modelPath, string? vocabPath, int maxLength, int threads, string? json = null)
    {
        if (texts.Length == 0) throw new UsageException("give at least one text to embed.");
        if (maxLength < 2) throw new UsageException($"--max-length must be at least 2, got {maxLength}.");
        if (modelPath is null && maxLength > DefaultModel.MaxPositions)
            throw new UsageException($"--max-length {maxLength} exceeds the {DefaultModel.MaxPositions} positions {DefaultModel.Name} knows.");
        var tokenizer = LoadTokenizer(vocabPath);
        var model = LoadedModel.Load(modelPath);
        using var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = CommonOptions.ResolveThreads(threads) });
        var embedder = SentenceEncoders.Sparrow(session, tokenizer, maxLength);
        var embeddings = context.Progress("Embedding", texts.Length, step => SentenceEncoders.EmbedInChunks(embedder, texts, step.AsCallback()));
        var (similarity, mostSimilar) = SimilarityReport.Json(texts, embeddings);
        var results = new { command = context.CommandLine, model = model.DisplayName, dimensions = embeddings[0].Length, maxLength, texts, embeddings, similarity, mostSimilar };
        JsonOutput.Write(context, json, results, () =>
        {
            context.Console.MarkupLine($"Embedded {texts.Length} text(s) with [bold]{Markup.Escape(model.DisplayName)}[/] ({embeddings[0].Length} dimensions).");
            SimilarityReport.Write(context.Console, texts, embeddings);
        });
        return ExitCodes.Success;
    }

    internal static SentenceTokenizer LoadTokenizer(string? vocabPath)
    {
        if (vocabPath is null) return SentenceTokenizer.Default;
        if (!File.Exists(vocabPath)) throw new UsageException($"{vocabPath}: file not found.");
        using var stream = File.OpenRead(vocabPath);
        return SentenceTokenizer.FromVocab(stream);
    }
}
