using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Graph;
using Sparrow.Pruning;
using Sparrow.Runtime;
using Sparrow.Runtime.Sparsity;
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
        var json = JsonOutput.Option("the description");
        var command = new Command("inspect", "Describes a model: inputs, outputs, operators, parameters by layer, FLOPs for a batch size and sequence length, and the kernel chosen for each weight.")
        {
            model, batch, sequence, threads, sparseKernel, json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model), parse.GetValue(batch), parse.GetValue(sequence), parse.GetValue(threads),
            parse.GetValue(sparseKernel), JsonOutput.Target(parse, json)));
        return command;
    }

    internal static int Run(CommandContext context, string? modelPath, int batch, int sequence, int threads, string? sparseKernel = "auto", string? json = null)
    {
        var kernel = CommonOptions.ResolveSparseKernel(sparseKernel);
        var threadCount = CommonOptions.ResolveThreads(threads);
        var loaded = LoadedModel.Load(modelPath);
        var model = loaded.Model;
        var graph = model.Graph;
        var opsets = model.OpsetImports.OrderBy(kv => kv.Key).Select(kv => (Domain: kv.Key.Length == 0 ? "ai.onnx" : kv.Key, Version: kv.Value)).ToArray();
        var operatorCounts = graph.Nodes.GroupBy(n => n.Domain.Length == 0 ? n.OpType : $"{n.Domain}:{n.OpType}")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => (OpType: g.Key, Count: g.Count())).ToArray();
        var total = ParameterGroups.Total(graph);
        var groups = ParameterGroups.Compute(graph);
        var pruning = Pruning(loaded);
        var flops = context.Progress("Counting FLOPs", 1, step =>
        {
            var f = Flops(loaded, batch, sequence, threadCount);
            step.Advance();
            return f;
        });
        var kernels = context.Progress("Choosing kernels", 1, step =>
        {
            var k = Kernels(loaded, kernel, threadCount);
            step.Advance();
            return k;
        });

        var results = new
        {
            command = context.CommandLine,
            model = loaded.DisplayName,
            producer = (model.ProducerName + " " + model.ProducerVersion).Trim(),
            irVersion = model.IrVersion,
            opsets = opsets.Select(o => new { domain = o.Domain, version = o.Version }),
            nodes = graph.Nodes.Count,
            initializers = graph.Initializers.Count,
            inputs = graph.RequiredInputs.Select(ValueJson),
            outputs = graph.Outputs.Select(ValueJson),
            operators = operatorCounts.Select(o => new { opType = o.OpType, count = o.Count }),
            parameters = total,
            layers = groups.Select(g => new { name = g.Name, tensors = g.Tensors, parameters = g.Parameters }),
            pruning = pruning is null ? null : new
            {
                method = pruning.Value.Method,
                pattern = pruning.Value.Pattern,
                weights = pruning.Value.Weights.Select(w => new { weight = w.Name, targetSparsity = w.Target, achievedSparsity = w.Achieved }),
            },
            flops = new
            {
                batch,
                sequence,
                inputs = flops.Shapes,
                byOpType = flops.ByOpType?.Select(f => new { opType = f.OpType, nodes = f.Nodes, flops = f.Flops }),
                total = flops.ByOpType?.Sum(f => f.Flops),
                error = flops.Error,
            },
            kernels = new
            {
                sparseKernel = kernel,
                threads = threadCount,
                summary = kernels.Choices is null ? null : KernelChoiceReport.Summary(kernels.Choices),
                sessionWeightBytes = kernels.SessionBytes,
                weights = kernels.Choices is null ? null : KernelChoiceReport.Json(kernels.Choices),
                error = kernels.Error,
            },
        };
        JsonOutput.Write(context, json, results, () =>
        {
            var console = context.Console;
            console.MarkupLine($"Model [bold]{Markup.Escape(loaded.DisplayName)}[/]");
            console.MarkupLine($"  producer {Markup.Escape(results.producer)}, IR version {model.IrVersion}, opset {Markup.Escape(string.Join(", ", opsets.Select(o => o.Domain + " " + o.Version)))}");
            console.MarkupLine($"  {graph.Nodes.Count} nodes, {graph.Initializers.Count} initializers");

            console.Write(ValueTable("inputs", graph.RequiredInputs));
            console.Write(ValueTable("outputs", graph.Outputs));

            var operators = new Table().Border(TableBorder.Simple).Title("operators").AddColumn("op type").AddColumn(new TableColumn("count").RightAligned());
            foreach (var (opType, count) in operatorCounts) operators.AddRow(Markup.Escape(opType), count.ToString(CultureInfo.InvariantCulture));
            console.Write(operators);

            var layers = new Table().Border(TableBorder.Simple).Title("parameters by layer")
                .AddColumn("layer").AddColumn(new TableColumn("tensors").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
            foreach (var g in groups)
                layers.AddRow(Markup.Escape(g.Name), g.Tensors.ToString(CultureInfo.InvariantCulture), CommonOptions.FormatCount(g.Parameters),
                    total == 0 ? "-" : (100.0 * g.Parameters / total).ToString("0.0", CultureInfo.InvariantCulture) + "%");
            console.Write(layers);
            console.MarkupLine($"Total parameters: [bold]{CommonOptions.FormatCount(total)}[/] ({CommonOptions.FormatShort(total)}), {CommonOptions.FormatShort(total * 4)}B as float32.");

            if (pruning is { } p)
            {
                var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"pruning: {p.Method}, {p.Pattern}"))
                    .AddColumn("weight").AddColumn(new TableColumn("target").RightAligned()).AddColumn(new TableColumn("achieved").RightAligned());
                foreach (var w in p.Weights)
                    table.AddRow(Markup.Escape(w.Name), w.Target is { } t ? t.ToString("P1", CultureInfo.InvariantCulture) : "global",
                        w.Achieved is { } a ? a.ToString("P1", CultureInfo.InvariantCulture) : "(weight missing)");
                console.Write(table);
            }

            if (flops.ByOpType is { } byOp)
            {
                var table = new Table().Border(TableBorder.Simple).Title($"FLOPs at batch {batch}, sequence {sequence}")
                    .AddColumn("op type").AddColumn(new TableColumn("nodes").RightAligned()).AddColumn(new TableColumn("FLOPs").RightAligned());
                foreach (var f in byOp) table.AddRow(f.OpType, f.Nodes.ToString(CultureInfo.InvariantCulture), CommonOptions.FormatCount(f.Flops));
                console.Write(table);
                var sum = byOp.Sum(f => f.Flops);
                var shapes = string.Join(", ", flops.Shapes.Select(kv => $"{kv.Key} {kv.Value}"));
                console.MarkupLine($"Total: [bold]{CommonOptions.FormatCount(sum)}[/] FLOPs ({FlopCounter.Format(sum)}) per run with {Markup.Escape(shapes)}; MatMul, Gemm and Conv, a multiply-add = 2 FLOPs.");
            }
            else
            {
                // The description above stands on its own; only the FLOPs need Sparrow to run the model.
                console.MarkupLine($"[yellow]FLOPs not counted[/]: Sparrow could not run the model ({Markup.Escape(flops.Error ?? "")}).");
            }

            if (kernels.Choices is { } choices)
            {
                if (choices.Count > 0) console.Write(KernelChoiceReport.Table(choices, $"kernel per weight (--sparse-kernel {kernel}, {threadCount} thread(s))"));
                console.MarkupLine($"Kernels: {Markup.Escape(KernelChoiceReport.Summary(choices))}.");
                console.MarkupLine($"Weights held by a session: [bold]{KernelChoiceReport.FormatBytes(kernels.SessionBytes ?? 0)}[/] (constants plus packed and sparse forms).");
            }
            else
            {
                console.MarkupLine($"[yellow]Kernels not chosen[/]: Sparrow could not compile the model ({Markup.Escape(kernels.Error ?? "")}).");
            }
        });
        return ExitCodes.Success;
    }

    private static object ValueJson(ValueInfo v) => new
    {
        name = v.Name,
        type = DataTypes.Name(v.ElementType),
        shape = v.Shape?.Select(d => d.ToString()).ToArray(),
    };

    private sealed record PrunedWeight(string Name, double? Target, double? Achieved);

    /// <summary>For a model pruned by Sparrow: each pruned weight's target sparsity next to the zeros it holds now.</summary>
    private static (string Method, string Pattern, PrunedWeight[] Weights)? Pruning(LoadedModel loaded)
    {
        if (PruningRecord.ReadFrom(loaded.Model) is not { } record) return null;
        var weights = record.Targets.Select(kv =>
        {
            double? achieved = loaded.Model.Graph.Initializers.TryGetValue(kv.Key, out var tensor) && tensor is Tensor<float> values && values.Length > 0
                ? 1 - (double)(values.Span.Length - values.Span.Count(0f)) / values.Length
                : null;
            return new PrunedWeight(kv.Key, kv.Value, achieved);
        }).ToArray();
        return (record.Method, record.Pattern, weights);
    }

    private sealed record KernelChoices(IReadOnlyList<WeightKernelChoice>? Choices, long? SessionBytes, string? Error);

    private static KernelChoices Kernels(LoadedModel loaded, string kernel, int threads)
    {
        try
        {
            using var session = new InferenceSession(loaded.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = kernel });
            return new KernelChoices(session.WeightKernels, session.WeightBytes, null);
        }
        catch (Exception e) when (SparrowApp.IsUserError(e))
        {
            return new KernelChoices(null, null, e.Message);
        }
    }

    private sealed record FlopCount(Dictionary<string, string> Shapes, IReadOnlyList<OpFlops>? ByOpType, string? Error);

    private static FlopCount Flops(LoadedModel loaded, int batch, int sequence, int threads)
    {
        var generator = new InputGenerator(loaded.Model, batch, sequence);
        Dictionary<string, Tensor> inputs;
        try
        {
            inputs = generator.Generate(seed: 0);
        }
        catch (UsageException e)
        {
            // A model whose inputs Sparrow cannot make up (int8, strings, no declared shape) is still inspected.
            return new FlopCount([], null, e.Message);
        }
        var shapes = inputs.ToDictionary(kv => kv.Key, kv => TensorShape.Format(kv.Value.Shape));
        try
        {
            return new FlopCount(shapes, FlopCounter.Measure(loaded.Model, inputs, threads), null);
        }
        catch (Exception e) when (SparrowApp.IsUserError(e))
        {
            return new FlopCount(shapes, null, e.Message);
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
