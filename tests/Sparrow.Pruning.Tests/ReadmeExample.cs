// The "Use it from C#" example of README.md. ReadmeExampleTests runs it and checks that README.md shows exactly
// the lines between the "README example" markers (the usings, a blank line, then the body without its indent),
// so the README and the tested code cannot drift apart. Edit it here, then copy it into README.md.
// README example: usings
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Pruning.Calibration;
using Sparrow.Runtime;
// README example: end

namespace Sparrow.Pruning.Tests;

internal static class ReadmeExample
{
    /// <summary>Writes minilm-wanda50.onnx into the current folder and prints the speed-up on the console.</summary>
    public static void Run()
    {
        // README example: body
        string[] sentences = ["A sparrow is a small bird.", "Pruning removes the weights that matter least.", "The next train leaves at noon."];
        var dense = OnnxImporter.Load(DefaultModel.ReadOnnx()); // the embedded all-MiniLM-L6-v2, or OnnxImporter.Load("model.onnx")
        var (pruned, _) = CalibratedPruner.Wanda(dense, new PruneSettings { Sparsity = 0.5 }, CalibrationSentences.Batches(sentences));
        OnnxExporter.Save(pruned, "minilm-wanda50.onnx");

        using var denseSession = new InferenceSession(dense);
        using var prunedSession = new InferenceSession("minilm-wanda50.onnx");
        using var batch = SentenceTokenizer.Default.EncodeBatch(sentences);
        var latency = LatencyComparison.Measure(denseSession, prunedSession, batch.ToInputs());
        Console.WriteLine($"dense {latency.BaselineMedian.TotalMilliseconds:F1} ms, pruned {latency.CandidateMedian.TotalMilliseconds:F1} ms: {latency.SpeedUp:F2}x as fast");
        // README example: end
    }
}
