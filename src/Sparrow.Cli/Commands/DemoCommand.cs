using System.CommandLine;
using Sparrow.Cli.Execution.Demo;
using Sparrow.Data.Evaluation.Samples;
using Sparrow.Data.Evaluation.Tasks;
using Sparrow.Graph;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow demo</c>: the whole journey on the embedded all-MiniLM-L6-v2 with nothing to download: prune it three
/// ways, judge each pruned copy against the dense model, benchmark them against ONNX Runtime, write the results.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultOutput = "sparrow-demo";

    public static Command Create(CommandContext context)
    {
        var output = new Option<string>("--out")
        {
            Description = "Folder for the pruned models and the results (created when missing; the demo's own files in it are replaced).",
            DefaultValueFactory = _ => DefaultOutput,
        };
        var threads = CommonOptions.Threads();
        var quick = new Option<bool>("--quick") { Description = "Tiny settings (a few sentences and task items, small shapes, no warm-up): checks that every step runs, in seconds; the numbers mean little." };
        var json = JsonOutput.Option("the summary");
        var command = new Command("demo",
            "Prunes the embedded all-MiniLM-L6-v2 three ways (Wanda 50%, Wanda 2:4, SparseGPT 90%), judges each against the dense model "
            + "(embedding fidelity, accuracy on shipped samples of two text tasks), benchmarks them against ONNX Runtime, and prints a summary table.")
        {
            output, threads, quick, json,
        };
        command.Add(SamplesCommand());
        command.SetAction(parse => DemoRun.Run(context, parse.GetValue(output)!, parse.GetValue(threads), parse.GetValue(quick), JsonOutput.Target(parse, json)));
        return command;
    }

    /// <summary>
    /// <c>sparrow demo make-samples</c> (hidden; scripts/make-demo-samples.sh runs it): makes the task samples that
    /// Sparrow.Data ships, from the full data sets that scripts/install-datasets.sh installs.
    /// </summary>
    private static Command SamplesCommand()
    {
        var data = new Option<string?>("--data") { Description = $"Folder of the task data sets (default: ${TaskData.EnvironmentVariable} or ~/.cache/sparrow/datasets)." };
        var output = new Option<string>("--out") { Description = "Folder to write the samples to.", Required = true };
        var command = new Command("make-samples", "Makes the demo's task samples from the installed data sets.") { data, output };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(data) ?? TaskData.DefaultDirectory;
            var target = parse.GetValue(output)!;
            Directory.CreateDirectory(target);
            foreach (var name in TaskSamples.Names)
            {
                LabelledDataset sample;
                try
                {
                    sample = TaskSamples.Make(name, folder);
                }
                catch (DatasetNotFoundException e)
                {
                    throw new UsageException(e.Message);
                }
                var path = Path.Combine(target, TaskSamples.FileName(name));
                var text = TaskSamples.ToText(sample);
                AtomicFile.WriteAllText(path, text);
                var counts = sample.ClassCounts();
                parse.InvocationConfiguration.Output.WriteLine(
                    $"{path}: {sample.Items.Count} items, {counts.Min()}-{counts.Max()} per class over {counts.Length} classes, {System.Text.Encoding.UTF8.GetByteCount(text):N0} bytes");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
