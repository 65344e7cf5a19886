using Sparrow.Cli.Execution;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

public class SmallCnnTests
{
    [Fact]
    public void Has_the_operators_of_a_small_cnn()
    {
        var ops = SmallCnn.Build().Graph.Nodes.Select(n => n.OpType).Distinct().Order();
        Assert.Equal(new[] { "BatchNormalization", "Conv", "Flatten", "Gemm", "GlobalAveragePool", "MaxPool", "Relu" }, ops);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights()
    {
        var a = OnnxExporter.ToBytes(SmallCnn.Build(seed: 4));
        var b = OnnxExporter.ToBytes(SmallCnn.Build(seed: 4));
        var c = OnnxExporter.ToBytes(SmallCnn.Build(seed: 5));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    /// <summary>The exported file is a valid model by ONNX Runtime's reading, with sensible outputs.</summary>
    [Fact]
    public void Onnx_runtime_runs_the_exported_model()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        var model = LoadedModel.Load(path);
        var inputs = new InputGenerator(model.Model, 2, 1).Generate(0);
        using var ort = new OrtModelRunner(model, 1);
        var outputs = ort.RunToTensors(inputs);
        var logits = (Tensor<float>)outputs[SmallCnn.OutputName];
        Assert.Equal(new[] { 2, 10 }, logits.Shape.ToArray());
        Assert.All(logits.ToArray(), v => Assert.True(float.IsFinite(v)));
        // Different images give different logits: the network is not dead.
        Assert.NotEqual(logits.Span[..10].ToArray(), logits.Span[10..].ToArray());
    }
}
