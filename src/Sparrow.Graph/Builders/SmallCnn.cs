using Sparrow.Tensors;

namespace Sparrow.Graph.Builders;

/// <summary>
/// A small image classifier built in code, with seeded random weights: two Conv + BatchNormalization + Relu
/// blocks with a MaxPool between them, GlobalAveragePool, Flatten and a Gemm classifier. Exercises the
/// operators a CNN needs; useful for tests and for checking the runtime against ONNX Runtime.
/// </summary>
public static class SmallCnn
{
    /// <summary>The name of the model's input: float32 [batch, channels, imageSize, imageSize].</summary>
    public const string InputName = "image";
    /// <summary>The name of the model's output: float32 [batch, classes], unnormalised class scores.</summary>
    public const string OutputName = "logits";

    /// <param name="seed">Seeds every weight: the same seed gives the same model, bit for bit.</param>
    /// <param name="channels">Input channels (3 for RGB).</param>
    /// <param name="imageSize">Height and width of the input; the batch dimension stays dynamic ("batch").</param>
    public static Model Build(int seed = 0, int channels = 3, int imageSize = 32, int classes = 10, int width = 8, long opset = 17)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var random = new Random(seed);
        var graph = new ModelGraph { Name = "small_cnn" };
        graph.Inputs.Add(new ValueInfo(InputName, DataType.Float32,
            new[] { Dimension.Named("batch"), Dimension.Fixed(channels), Dimension.Fixed(imageSize), Dimension.Fixed(imageSize) }));

        var x = ConvBlock(graph, random, "conv1", InputName, channels, width, pads: 1);
        graph.Nodes.Add(new Node("MaxPool", new[] { x }, new[] { "pool1" }, "pool1")
        {
            Attributes = { NodeAttribute.Ints("kernel_shape", new long[] { 2, 2 }), NodeAttribute.Ints("strides", new long[] { 2, 2 }) },
        });
        x = ConvBlock(graph, random, "conv2", "pool1", width, 2 * width, pads: 1);
        graph.Nodes.Add(new Node("GlobalAveragePool", new[] { x }, new[] { "gap" }, "gap"));
        graph.Nodes.Add(new Node("Flatten", new[] { "gap" }, new[] { "features" }, "flatten") { Attributes = { NodeAttribute.Int("axis", 1) } });

        // Gemm with transB = 1, as PyTorch exports nn.Linear: weight [classes, features].
        graph.Initializers["fc.weight"] = Normal(random, new[] { classes, 2 * width }, Math.Sqrt(1.0 / (2 * width)));
        graph.Initializers["fc.bias"] = Normal(random, new[] { classes }, 0.1);
        graph.Nodes.Add(new Node("Gemm", new[] { "features", "fc.weight", "fc.bias" }, new[] { OutputName }, "fc")
        {
            Attributes = { NodeAttribute.Int("transB", 1) },
        });
        graph.Outputs.Add(new ValueInfo(OutputName, DataType.Float32, new[] { Dimension.Named("batch"), Dimension.Fixed(classes) }));

        var model = new Model(graph) { ProducerName = "Sparrow.SmallCnn", IrVersion = 8 };
        model.OpsetImports[""] = opset;
        return model;
    }

    /// <summary>Conv (3x3) → BatchNormalization → Relu; returns the Relu's output name.</summary>
    private static string ConvBlock(ModelGraph graph, Random random, string name, string input, int inChannels, int outChannels, int pads)
    {
        // He initialisation keeps activations in a sensible range through Relu.
        graph.Initializers[$"{name}.weight"] = Normal(random, new[] { outChannels, inChannels, 3, 3 }, Math.Sqrt(2.0 / (inChannels * 9)));
        graph.Initializers[$"{name}.bias"] = Normal(random, new[] { outChannels }, 0.1);
        graph.Nodes.Add(new Node("Conv", new[] { input, $"{name}.weight", $"{name}.bias" }, new[] { $"{name}.out" }, name)
        {
            Attributes =
            {
                NodeAttribute.Ints("kernel_shape", new long[] { 3, 3 }),
                NodeAttribute.Ints("pads", new long[] { pads, pads, pads, pads }),
                NodeAttribute.Ints("strides", new long[] { 1, 1 }),
            },
        });
        var bn = $"{name}.bn";
        graph.Initializers[$"{bn}.scale"] = Uniform(random, outChannels, 0.5, 1.5);
        graph.Initializers[$"{bn}.bias"] = Normal(random, new[] { outChannels }, 0.1);
        graph.Initializers[$"{bn}.mean"] = Normal(random, new[] { outChannels }, 0.1);
        graph.Initializers[$"{bn}.var"] = Uniform(random, outChannels, 0.5, 1.5);
        graph.Nodes.Add(new Node("BatchNormalization",
            new[] { $"{name}.out", $"{bn}.scale", $"{bn}.bias", $"{bn}.mean", $"{bn}.var" }, new[] { $"{bn}.out" }, bn)
        {
            Attributes = { NodeAttribute.Float("epsilon", 1e-5f) },
        });
        graph.Nodes.Add(new Node("Relu", new[] { $"{bn}.out" }, new[] { $"{name}.relu" }, $"{name}.relu"));
        return $"{name}.relu";
    }

    private static Tensor<float> Normal(Random random, int[] shape, double std)
    {
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return Tensor<float>.FromArray(data, shape);
    }

    private static Tensor<float> Uniform(Random random, int length, double low, double high)
    {
        var data = new float[length];
        for (var i = 0; i < length; i++) data[i] = (float)(low + (high - low) * random.NextDouble());
        return Tensor<float>.FromArray(data, length);
    }
}
