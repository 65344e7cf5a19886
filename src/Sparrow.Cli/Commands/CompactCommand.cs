using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Graph.Onnx;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow compact IN.onnx -o OUT.onnx</c>: rewrites a (pruned) model in the compact form, every weight that gets
/// smaller that way as a standard ONNX sparse initializer; <c>--dense</c> writes the ordinary form back. Reads either
/// form; writes atomically and never over its input.
/// </summary>
internal static class CompactCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("model") { Description = "The .onnx model to convert (standard or compact)." };
        var dense = new Option<bool>("--dense") { Description = "Write the standard dense form instead (every weight a plain initializer, zeros stored)." };
        var output = new Option<string>("--output", "-o") { Description = "Path of the .onnx model to write.", Required = true };
        var json = JsonOutput.Option("the sizes");
        var command = new Command("compact", "Rewrites a pruned model in the compact form (only non-zeros stored, as standard ONNX sparse initializers), or back to the dense form with --dense.")
        {
            model, output, dense, json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(dense), JsonOutput.Target(parse, json)));
        return command;
    }

    internal static int Run(CommandContext context, string modelPath, string outputPath, bool dense, string? json = null)
    {
        if (Path.GetFullPath(modelPath) == Path.GetFullPath(outputPath))
            throw new UsageException($"--output {outputPath} is the input model; Sparrow never overwrites its input. Choose another path.");
        var loaded = LoadedModel.Load(modelPath);
        var weightBytes = loaded.Model.Graph.Initializers.Values.Sum(t => (long)t.AsBytes().Length);
        if (!dense && weightBytes >= int.MaxValue)
            throw new UsageException($"{modelPath} holds {weightBytes} bytes of weights; the compact form keeps weights inside the .onnx file, which protobuf limits to 2 GB. Prune it further or keep the dense form.");
        var external = dense && weightBytes > (1L << 30) ? Path.GetFileName(outputPath) + ".data" : null;
        OnnxExporter.Save(loaded.Model, outputPath, new OnnxSaveOptions { Compact = !dense, ExternalDataFile = external });
        var before = new FileInfo(modelPath).Length;
        var after = new FileInfo(outputPath).Length;
        var results = new
        {
            command = context.CommandLine,
            model = modelPath,
            output = outputPath,
            form = dense ? "dense" : "compact",
            inputBytes = before,
            outputBytes = after,
            ratio = (double)after / before,
            sparseWeights = CountSparseInitializers(outputPath),
            externalData = external,
        };
        JsonOutput.Write(context, json, results, () =>
            context.Console.MarkupLine($"Wrote [bold]{Markup.Escape(outputPath)}[/] in the {(dense ? "dense" : "compact")} form: " +
                $"{DescribeSize(outputPath)}, {(double)after / before:P1} of {Markup.Escape(modelPath)} ({FormatBytes(before)})"
                + (external is null ? "." : $", weights in {Markup.Escape(external)}.")));
        return ExitCodes.Success;
    }

    /// <summary>The file's size and how many of its weights are stored sparse.</summary>
    internal static string DescribeSize(string path)
    {
        var sparse = CountSparseInitializers(path);
        return $"{FormatBytes(new FileInfo(path).Length)}, {sparse} weight{(sparse == 1 ? "" : "s")} stored sparse";
    }

    private static int CountSparseInitializers(string path)
    {
        using var stream = File.OpenRead(path);
        return Sparrow.Graph.Onnx.Proto.ModelProto.Parser.ParseFrom(stream).Graph?.SparseInitializer.Count ?? 0;
    }

    internal static string FormatBytes(long bytes) =>
        bytes >= 1 << 20 ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
        : bytes >= 1 << 10 ? (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB"
        : bytes + " B";
}
