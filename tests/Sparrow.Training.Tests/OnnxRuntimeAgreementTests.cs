using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;
using Sparrow.Training.Data;
using Sparrow.Training.Models;
using Sparrow.Training.Optimization;

namespace Sparrow.Training.Tests;

/// <summary>Models built and trained by Sparrow, exported to ONNX, give the same outputs in ONNX Runtime.</summary>
public class OnnxRuntimeAgreementTests
{
    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void Trained_and_exported_model_runs_the_same_in_onnx_runtime(string kind)
    {
        var model = kind == "mlp" ? ModelBuilder.Mlp([16, 12, 4], seed: 1) : ModelBuilder.Cnn(channels: 1, imageSize: 8, classes: 4, width: 4, seed: 1);
        int[] example = kind == "mlp" ? [16] : [1, 8, 8];
        var random = new Xoshiro256(2);
        var count = 64;
        var length = example.Aggregate(1, (a, b) => a * b);
        var labels = Enumerable.Range(0, count).Select(_ => random.Next(4)).ToArray();
        var features = Enumerable.Range(0, count * length).Select(i => (float)random.NextGaussian() + labels[i / length]).ToArray();
        var data = new ArrayDataset(features, example, labels);
        var trainer = new Trainer(model, new AdamW(), new ConstantSchedule(0.01f), new TrainerOptions { BatchSize = 16, Seed = 3 });
        trainer.Fit(data, untilStep: 10);

        var (batch, _) = data.Range(0, 8);
        using var sparrow = trainer.Predict(batch);
        using var session = new InferenceSession(OnnxExporter.ToBytes(model));
        var input = new DenseTensor<float>(batch.ToArray(), batch.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelBuilder.InputName, input)]);
        var onnxRuntime = results.Single(r => r.Name == ModelBuilder.OutputName).AsEnumerable<float>().ToArray();
        Assert.Equal(sparrow.Length, onnxRuntime.Length);
        for (var i = 0; i < onnxRuntime.Length; i++)
            Assert.True(Math.Abs(sparrow.Span[i] - onnxRuntime[i]) <= 1e-4 + 1e-4 * Math.Abs(onnxRuntime[i]), $"output {i}: Sparrow {sparrow.Span[i]}, ONNX Runtime {onnxRuntime[i]}");
    }
}
