using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow verify MODEL.onnx</c>: runs a model in Sparrow and in ONNX Runtime on the same inputs and
/// compares every output. Exit code 0 only when all of them agree within the tolerance.
/// </summary>
internal static class VerifyCommand
{
    internal sealed record Settings(
        string? ModelPath, int Batch, int Sequence, int Seed, string[] Inputs, int Threads, double AbsoluteTolerance, double RelativeTolerance,
        string SparseKernel = "auto", string? Json = null);

    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted, the embedded all-MiniLM-L6-v2");
        var batch = CommonOptions.Batch(1);
        var sequence = CommonOptions.Sequence(16);
        var seed = CommonOptions.Seed();
        var inputs = new Option<string[]>("--input")
        {
            Description = "NAME=FILE.npy: feed this input from a NumPy file instead of generating it (repeat for several; default: every input generated with --seed).",
            DefaultValueFactory = _ => [],
        };
        var threads = CommonOptions.Threads();
        var atol = new Option<double>("--atol") { Description = "Absolute tolerance.", DefaultValueFactory = _ => 1e-4 };
        var rtol = new Option<double>("--rtol") { Description = "Relative tolerance: an element passes when |sparrow - ort| <= atol + rtol * |ort|.", DefaultValueFactory = _ => 1e-3 };
        var sparseKernel = CommonOptions.SparseKernel();
        var json = JsonOutput.Option("the comparison");
        var command = new Command("verify", "Runs a model in Sparrow and in ONNX Runtime on the same inputs and compares every output (exit code 0 only if all pass).")
        {
            model, batch, sequence, seed, inputs, threads, atol, rtol, sparseKernel, json,
        };
        command.SetAction(parse => Run(context, new Settings(
            parse.GetValue(model), parse.GetValue(batch), parse.GetValue(sequence), parse.GetValue(seed),
            parse.GetValue(inputs) ?? [], parse.GetValue(threads), parse.GetValue(atol), parse.GetValue(rtol), parse.GetValue(sparseKernel) ?? "auto", JsonOutput.Target(parse, json))));
        return command;
    }

    internal static int Run(CommandContext context, Settings settings)
    {
        var console = context.Console;
        if (!(settings.AbsoluteTolerance >= 0) || !(settings.RelativeTolerance >= 0))
            throw new UsageException("--atol and --rtol must be 0 or more.");
        var threads = CommonOptions.ResolveThreads(settings.Threads);
        var kernel = CommonOptions.ResolveSparseKernel(settings.SparseKernel);
        var model = LoadedModel.Load(settings.ModelPath);
        var given = CommonOptions.ReadInputFiles(settings.Inputs, model);
        var generator = new InputGenerator(model.Model, settings.Batch, settings.Sequence, inputsCanBeGiven: true);
        Dictionary<string, Tensor> inputs;
        try
        {
            inputs = generator.Generate(settings.Seed, given);
        }
        catch
        {
            foreach (var t in given.Values) t.Dispose();
            throw;
        }
        Dictionary<string, Tensor>? expected = null;
        IReadOnlyDictionary<string, Tensor>? actual = null;
        try
        {
            context.Info($"Model [bold]{Markup.Escape(model.DisplayName)}[/] (opset {model.Model.Opset}), {threads} thread(s), seed {settings.Seed}.");
            foreach (var (name, what) in generator.Descriptions)
                context.Info($"  input [bold]{Markup.Escape(name)}[/]: {Markup.Escape(what)}");

            TimeSpan sparrowTime = default, ortTime = default;
            string kernels = "";
            context.Progress("Running the model in Sparrow and ONNX Runtime", 2, step =>
            {
                var started = Stopwatch.GetTimestamp();
                using (var session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = kernel }))
                {
                    kernels = KernelChoiceReport.Summary(session.WeightKernels);
                    actual = session.Run(inputs);
                }
                sparrowTime = Stopwatch.GetElapsedTime(started);
                step.Advance("Sparrow");

                started = Stopwatch.GetTimestamp();
                using (var reference = new OrtModelRunner(model, threads))
                    expected = reference.RunToTensors(inputs);
                ortTime = Stopwatch.GetElapsedTime(started);
                step.Advance("ONNX Runtime");
            });
            context.Info($"  kernels (--sparse-kernel {Markup.Escape(kernel)}): {Markup.Escape(kernels)}");

            var diffs = expected!
                .Select(kv => OutputComparison.Compare(kv.Key, actual!.GetValueOrDefault(kv.Key), kv.Value, settings.AbsoluteTolerance, settings.RelativeTolerance))
                .ToArray();
            var failed = diffs.Count(d => !d.Passed);
            var tolerance = $"atol {Format(settings.AbsoluteTolerance)} + rtol {Format(settings.RelativeTolerance)}";
            var results = new
            {
                command = context.CommandLine,
                model = model.DisplayName,
                opset = model.Model.Opset,
                threads,
                seed = settings.Seed,
                sparseKernel = kernel,
                kernels,
                inputs = generator.Descriptions.Select(kv => new { name = kv.Key, description = kv.Value }),
                absoluteTolerance = settings.AbsoluteTolerance,
                relativeTolerance = settings.RelativeTolerance,
                outputs = diffs.Select(d => new
                {
                    name = d.Name,
                    shape = d.Shape,
                    maxAbsoluteDifference = JsonOutput.Number(d.MaxAbsolute),
                    maxRelativeDifference = JsonOutput.Number(d.MaxRelative),
                    mismatches = d.Mismatches,
                    passed = d.Passed,
                    problem = d.Problem,
                }),
                passed = failed == 0,
                sparrowMilliseconds = sparrowTime.TotalMilliseconds,
                onnxRuntimeMilliseconds = ortTime.TotalMilliseconds,
                onnxRuntimeVersion = OrtModelRunner.Version,
            };
            JsonOutput.Write(context, settings.Json, results, () =>
            {
                WriteTable(console, diffs);
                if (failed == 0) console.MarkupLine($"[green]PASS[/]: all {diffs.Length} output(s) match ONNX Runtime within {tolerance}.");
                else console.MarkupLine($"[red]FAIL[/]: {failed} of {diffs.Length} output(s) differ from ONNX Runtime beyond {tolerance}.");
            });
            context.Info($"[grey]Sparrow {sparrowTime.TotalMilliseconds:0} ms, ONNX Runtime {OrtModelRunner.Version} {ortTime.TotalMilliseconds:0} ms (session creation and one run each).[/]");
            return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
            foreach (var t in expected?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
            foreach (var t in actual?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
        }
    }

    private static void WriteTable(IAnsiConsole console, IReadOnlyList<OutputDiff> diffs)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("output").AddColumn("shape")
            .AddColumn(new TableColumn("max abs diff").RightAligned())
            .AddColumn(new TableColumn("max rel diff").RightAligned())
            .AddColumn("result");
        foreach (var d in diffs)
        {
            var result = d.Passed ? "[green]PASS[/]"
                : d.Problem is { } p ? $"[red]FAIL[/] {Markup.Escape(p)}"
                : $"[red]FAIL[/] ({CommonOptions.FormatCount(d.Mismatches)} elements)";
            table.AddRow(Markup.Escape(d.Name), Markup.Escape(d.Shape), Format(d.MaxAbsolute), Format(d.MaxRelative), result);
        }
        console.Write(table);
    }

    internal static string Format(double v) => double.IsNaN(v) ? "-" : double.IsInfinity(v) ? "inf" : v.ToString("0.###e+0", CultureInfo.InvariantCulture);
}
