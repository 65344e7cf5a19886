using Sparrow.Graph;
using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Execution;

/// <summary>The files every pruning command reads and writes: calibration sentences in, the pruned model out.</summary>
internal static class PruneFiles
{
    /// <summary>Models whose weights pass this are written with their weights in a .data file beside them (protobuf stops at 2 GB).</summary>
    private const long ExternalDataAboveBytes = 1L << 30;

    /// <summary>The sentences of a --calibration file, or Sparrow's built-in sample when none is given.</summary>
    public static IReadOnlyList<string> CalibrationSentences(string? path)
    {
        if (path is null) return Sparrow.Pruning.Calibration.CalibrationSentences.Sample;
        if (!File.Exists(path)) throw new UsageException($"--calibration {path}: no such file.");
        var lines = Sparrow.Data.Text.SentenceLines.ReadFile(path);
        if (lines.Length == 0) throw new UsageException($"--calibration {path} holds no sentences (one per line; blank lines and lines starting with # are skipped).");
        return lines;
    }

    /// <summary>Refuses an output path that is the input model: Sparrow never overwrites its input.</summary>
    public static void RefuseInputAsOutput(string? modelPath, string outputPath)
    {
        if (modelPath is not null && Path.GetFullPath(modelPath) == Path.GetFullPath(outputPath))
            throw new UsageException($"--output {outputPath} is the input model; Sparrow never overwrites its input. Choose another path.");
    }

    /// <summary>Writes the pruned model atomically, its weights beside it when they are too large for one file; returns that file's name, if any.</summary>
    public static string? Save(Model pruned, string outputPath, bool compact = false)
    {
        var weightBytes = pruned.Graph.Initializers.Values.Sum(t => (long)t.AsBytes().Length);
        var external = weightBytes > ExternalDataAboveBytes ? Path.GetFileName(outputPath) + ".data" : null;
        OnnxExporter.Save(pruned, outputPath, new OnnxSaveOptions { ExternalDataFile = external, Compact = compact });
        return external;
    }
}
