using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow prune MODEL.onnx --method magnitude --sparsity 0.9 -o OUT.onnx</c>: sparsifies the model's
/// weights and writes a new model (atomically; the input is never overwritten).
/// </summary>
internal static class PruneCommand
{
    /// <summary>Above this many weight bytes, weights go to an external-data file (protobuf files stop at 2 GB).</summary>
    private const long ExternalDataAboveBytes = 1L << 30;

    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted, the embedded all-MiniLM-L6-v2");
        var method = new Option<string>("--method") { Description = "Pruning method: magnitude (per layer).", DefaultValueFactory = _ => "magnitude" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of each target weight set to zero, 0 to 1.", DefaultValueFactory = _ => 0.9 };
        var output = new Option<string>("--output", "-o") { Description = "Path of the pruned .onnx model to write.", Required = true };
        var command = new Command("prune", "Prunes a model's weights (every MatMul/Gemm/Conv weight but embeddings and the final classifier) and writes the pruned model.")
        {
            model, method, sparsity, output,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model), parse.GetValue(method)!, parse.GetValue(sparsity), parse.GetValue(output)!));
        return command;
    }

    internal static int Run(CommandContext context, string? modelPath, string method, double sparsity, string outputPath)
    {
        if (method != "magnitude")
            throw new UsageException($"--method '{method}' is not available; the methods are: magnitude.");
        if (double.IsNaN(sparsity) || sparsity < 0 || sparsity > 1)
            throw new UsageException($"--sparsity must be between 0 and 1, got {sparsity.ToString(CultureInfo.InvariantCulture)}.");
        if (modelPath is not null && Path.GetFullPath(modelPath) == Path.GetFullPath(outputPath))
            throw new UsageException($"--output {outputPath} is the input model; Sparrow never overwrites its input. Choose another path.");
        var console = context.Console;
        var loaded = LoadedModel.Load(modelPath);
        var (pruned, layers) = MagnitudePruner.Prune(loaded.Model, sparsity);
        if (layers.Count == 0)
            throw new UsageException($"{loaded.DisplayName} has no weights to prune (constant 2-D MatMul/Gemm weights or Conv weights, other than embeddings and the final classifier).");

        var table = new Table().Border(TableBorder.Simple).Title($"magnitude pruning to {sparsity:P0} per layer")
            .AddColumn("weight").AddColumn("op").AddColumn("shape").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("sparsity").RightAligned());
        foreach (var l in layers)
            table.AddRow(Markup.Escape(l.WeightName), l.OpType, Markup.Escape("[" + string.Join("x", l.Shape) + "]"), CommonOptions.FormatCount(l.Parameters), l.Sparsity.ToString("P1", CultureInfo.InvariantCulture));
        console.Write(table);

        var weightBytes = pruned.Graph.Initializers.Values.Sum(t => (long)t.AsBytes().Length);
        var external = weightBytes > ExternalDataAboveBytes ? Path.GetFileName(outputPath) + ".data" : null;
        OnnxExporter.Save(pruned, outputPath, external);

        var total = layers.Sum(l => l.Parameters);
        var zeros = layers.Sum(l => l.Zeros);
        var all = ParameterGroups.Total(pruned.Graph);
        console.MarkupLine($"Pruned {layers.Count} weights: {CommonOptions.FormatCount(zeros)} of {CommonOptions.FormatCount(total)} set to zero " +
            $"({(double)zeros / total:P1} of them, {(double)zeros / all:P1} of all parameters).");
        console.MarkupLine($"Wrote [bold]{Markup.Escape(outputPath)}[/]" + (external is null ? "." : $" with weights in {Markup.Escape(external)}."));
        return ExitCodes.Success;
    }
}
