using System.CommandLine;
using Sparrow.Cli.Execution;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Runtime;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary><c>sparrow demo</c>: what Sparrow does, on the embedded model, with nothing to download.</summary>
internal static class DemoCommand
{
    /// <summary>Two pairs of paraphrases and two sentences unlike any other.</summary>
    internal static readonly string[] Sentences =
    {
        "A man is playing a guitar on the stage.",
        "Someone performs a song on an acoustic guitar.",
        "The stock market fell sharply this morning.",
        "Share prices dropped steeply in early trading.",
        "A cat is sleeping on the warm windowsill.",
        "Photosynthesis turns sunlight into chemical energy.",
    };

    public static Command Create(CommandContext context)
    {
        var threads = CommonOptions.Threads();
        var command = new Command("demo", "Embeds a few sentences with the embedded all-MiniLM-L6-v2, run by Sparrow's own runtime, and prints how similar they are.")
        {
            threads,
        };
        command.SetAction(parse => Run(context, parse.GetValue(threads)));
        return command;
    }

    internal static int Run(CommandContext context, int threads)
    {
        var console = context.Console;
        var model = LoadedModel.Load(null);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = CommonOptions.ResolveThreads(threads) });
        var embedder = SentenceEncoders.Sparrow(session, SentenceTokenizer.Default, DefaultModel.MaxSequenceLength);
        var embeddings = embedder.Embed(Sentences);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        console.MarkupLine($"[bold]Sparrow[/] ran [bold]{DefaultModel.Name}[/] ({CommonOptions.FormatShort(ParameterGroups.Total(model.Model.Graph))} parameters, embedded) on {Sentences.Length} sentences in {elapsed.TotalMilliseconds:0} ms, model load included.");
        SimilarityReport.Write(console, Sentences, embeddings);
        console.MarkupLine("[grey]Paraphrases score high, unrelated sentences low. Try: sparrow embed \"your text\" \"another text\"[/]");
        return ExitCodes.Success;
    }
}
