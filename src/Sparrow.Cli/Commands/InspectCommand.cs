using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Graph;
using Sparrow.Pruning;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow inspect MODEL.onnx</c>: inputs, outputs, opset, operator counts, parameters by layer and the
/// FLOPs of one run at a given batch size and sequence length, and the kernel a session chooses for each
/// constant weight (dense or a sparse format, measured on this machine unless --sparse-kernel forces one).
/// </summary>
internal static class InspectCommand
{
    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted, the embedded all-MiniLM-L6-v2");
        var batch = CommonOptions.Batch(1);
        var sequence = CommonOptions.Sequence(128);
        var threads = CommonOptions.Threads();
        var sparseKernel = CommonOptions.SparseKernel();
        var command = new Command("inspect", "Describes a model: inputs, outputs, operators, parameters by layer, FLOPs for a batch size and sequence length, and the kernel chosen for each weight.")
        {
            model, batch, sequence, threads, sparseKernel,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model), parse.GetValue(batch), parse.GetValue(sequence), parse.GetValue(threads),
            parse.GetValue(sparseKernel)));
        return command;
    }

    internal static int Run(CommandContext context, string? modelPath, int batch, int sequence, int threads, string? sparseKernel = "auto")
    {
        var console = context.Console;
        var kernel = CommonOptions.ResolveSparseKernel(sparseKernel);
        var loaded = LoadedModel.Load(modelPath);
        var model = loaded.Model;
        var graph = model.Graph;
        var opsets = string.Join(", ", model.OpsetImports.OrderBy(kv => kv.Key).Select(kv => (kv.Key.Length == 0 ? "ai.onnx" : kv.Key) + " " + kv.Value));
        console.MarkupLine($"Model [bold]{Markup.Escape(loaded.DisplayName)}[/]");
        console.MarkupLine($"  producer {Markup.Escape((model.ProducerName + " " + model.ProducerVersion).Trim())}, IR version {model.IrVersion}, opset {Markup.Escape(opsets)}");
        console.MarkupLine($"  {graph.Nodes.Count} nodes, {graph.Initializers.Count} initializers");

        console.Write(ValueTable("inputs", graph.RequiredInputs));
        console.Write(ValueTable("outputs", graph.Outputs));

        var operators = new Table().Border(TableBorder.Simple).Title("operators").AddColumn("op type").AddColumn(new TableColumn("count").RightAligned());
        foreach (var g in graph.Nodes.GroupBy(n => n.Domain.Length == 0 ? n.OpType : $"{n.Domain}:{n.OpType}").OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            operators.AddRow(Markup.Escape(g.Key), g.Count().ToString(CultureInfo.InvariantCulture));
        console.Write(operators);

        var total = ParameterGroups.Total(graph);
        var layers = new Table().Border(TableBorder.Simple).Title("parameters by layer")
            .AddColumn("layer").AddColumn(new TableColumn("tensors").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        foreach (var g in ParameterGroups.Compute(graph))
            layers.AddRow(Markup.Escape(g.Name), g.Tensors.ToString(CultureInfo.InvariantCulture), CommonOptions.FormatCount(g.Parameters),
                total == 0 ? "-" : (100.0 * g.Parameters / total).ToString("0.0", CultureInfo.InvariantCulture) + "%");
        console.Write(layers);
        console.MarkupLine($"Total parameters: [bold]{CommonOptions.FormatCount(total)}[/] ({CommonOptions.FormatShort(total)}), {CommonOptions.FormatShort(total * 4)}B as float32.");

        WritePruning(console, loaded);
        WriteFlops(console, loaded, batch, sequence, CommonOptions.ResolveThreads(threads));
        WriteKernels(console, loaded, kernel, CommonOptions.ResolveThreads(threads));
        return ExitCodes.Success;
    }

    /// <summary>For a model pruned by Sparrow: each pruned weight's target sparsity next to the zeros it holds now.</summary>
    private static void WritePruning(IAnsiConsole console, LoadedModel loaded)
    {
        if (PruningRecord.ReadFrom(loaded.Model) is not { } record) return;
        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"pruning: {record.Method}, {record.Pattern}"))
            .AddColumn("weight").AddColumn(new TableColumn("target").RightAligned()).AddColumn(new TableColumn("achieved").RightAligned());
        foreach (var (name, target) in record.Targets)
        {
            var achieved = loaded.Model.Graph.Initializers.TryGetValue(name, out var tensor) && tensor is Tensor<float> values && values.Length > 0
                ? (values.Span.Length - values.Span.Count(0f) is var kept ? 1 - (double)kept / values.Length : 0).ToString("P1", CultureInfo.InvariantCulture)
                : "(weight missing)";
            table.AddRow(Markup.Escape(name), target is { } t ? t.ToString("P1", CultureInfo.InvariantCulture) : "global", achieved);
        }
        console.Write(table);
    }

    private static void WriteKernels(IAnsiConsole console, LoadedModel loaded, string kernel, int threads)
    {
        try
        {
            using var session = new InferenceSession(loaded.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = kernel });
            var choices = session.WeightKernels;
            if (choices.Count > 0) console.Write(KernelChoiceReport.Table(choices, $"kernel per weight (--sparse-kernel {kernel}, {threads} thread(s))"));
            console.MarkupLine($"Kernels: {Markup.Escape(KernelChoiceReport.Summary(choices))}.");
            console.MarkupLine($"Weights held by a session: [bold]{KernelChoiceReport.FormatBytes(session.WeightBytes)}[/] (constants plus packed and sparse forms).");
        }
        catch (Exception e) when (SparrowApp.IsUserError(e))
        {
            console.MarkupLine($"[yellow]Kernels not chosen[/]: Sparrow could not compile the model ({Markup.Escape(e.Message)}).");
        }
    }

    private static void WriteFlops(IAnsiConsole console, LoadedModel loaded, int batch, int sequence, int threads)
    {
        var generator = new InputGenerator(loaded.Model, batch, sequence);
        var inputs = generator.Generate(seed: 0);
        var shapes = string.Join(", ", inputs.Select(kv => $"{kv.Key} {TensorShape.Format(kv.Value.Shape)}"));
        try
        {
            var flops = FlopCounter.Measure(loaded.Model, inputs, threads);
            var table = new Table().Border(TableBorder.Simple).Title($"FLOPs at batch {batch}, sequence {sequence}")
                .AddColumn("op type").AddColumn(new TableColumn("nodes").RightAligned()).AddColumn(new TableColumn("FLOPs").RightAligned());
            foreach (var f in flops) table.AddRow(f.OpType, f.Nodes.ToString(CultureInfo.InvariantCulture), CommonOptions.FormatCount(f.Flops));
            console.Write(table);
            var sum = flops.Sum(f => f.Flops);
            console.MarkupLine($"Total: [bold]{CommonOptions.FormatCount(sum)}[/] FLOPs ({FlopCounter.Format(sum)}) per run with {Markup.Escape(shapes)}; MatMul, Gemm and Conv, a multiply-add = 2 FLOPs.");
        }
        catch (Exception e) when (SparrowApp.IsUserError(e))
        {
            // The description above stands on its own; only the FLOPs need Sparrow to run the model.
            console.MarkupLine($"[yellow]FLOPs not counted[/]: Sparrow could not run the model ({Markup.Escape(e.Message)}).");
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    private static Table ValueTable(string title, IEnumerable<ValueInfo> values)
    {
        var table = new Table().Border(TableBorder.Simple).Title(title).AddColumn("name").AddColumn("type").AddColumn("shape");
        foreach (var v in values)
            table.AddRow(Markup.Escape(v.Name), DataTypes.Name(v.ElementType),
                Markup.Escape(v.Shape is null ? "?" : "[" + string.Join(", ", v.Shape) + "]"));
        return table;
    }
}
