using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Data;

namespace Sparrow.Training.Models;

/// <summary>
/// Small trainable models defined in code as plain ONNX graphs (opset 17, default domain only), so that what
/// Sparrow trains any ONNX runtime can run. Weights are seeded (He initialisation for layers followed by Relu).
/// </summary>
public static class ModelBuilder
{
    /// <summary>The input every built model takes.</summary>
    public const string InputName = "input";

    /// <summary>The output every built model gives (unnormalised class scores).</summary>
    public const string OutputName = "logits";

    /// <summary>
    /// A multilayer perceptron: Gemm (weights [out, in], as PyTorch's nn.Linear exports) + Relu between layers,
    /// no activation after the last. <paramref name="sizes"/> = input, hidden..., classes (784, 300, 100, 10 is LeNet-300-100).
    /// </summary>
    public static Model Mlp(IReadOnlyList<int> sizes, long seed = 0)
    {
        if (sizes.Count < 2) throw new ArgumentException("An MLP needs at least an input and an output size.");
        var random = new Xoshiro256(seed);
        var graph = new ModelGraph { Name = $"mlp_{string.Join("_", sizes)}" };
        graph.Inputs.Add(new ValueInfo(InputName, DataType.Float32, [Dimension.Named("batch"), Dimension.Fixed(sizes[0])]));
        var x = InputName;
        for (var layer = 1; layer < sizes.Count; layer++)
        {
            var last = layer == sizes.Count - 1;
            var name = $"fc{layer}";
            graph.Initializers[$"{name}.weight"] = Normal(random, [sizes[layer], sizes[layer - 1]], Math.Sqrt((last ? 1.0 : 2.0) / sizes[layer - 1]));
            graph.Initializers[$"{name}.bias"] = Tensor<float>.Allocate([sizes[layer]], clear: true);
            var output = last ? OutputName : $"{name}.out";
            graph.Nodes.Add(new Node("Gemm", [x, $"{name}.weight", $"{name}.bias"], [output], name) { Attributes = { NodeAttribute.Int("transB", 1) } });
            if (last) break;
            graph.Nodes.Add(new Node("Relu", [output], [$"{name}.relu"], $"{name}.relu"));
            x = $"{name}.relu";
        }
        graph.Outputs.Add(new ValueInfo(OutputName, DataType.Float32, [Dimension.Named("batch"), Dimension.Fixed(sizes[^1])]));
        return Finish(graph);
    }

    /// <summary>
    /// A small CNN for [batch, channels, size, size] images: two blocks of 3×3 Conv (padding 1) + Relu + 2×2
    /// MaxPool, then Flatten and a Gemm classifier. <paramref name="imageSize"/> must be divisible by 4.
    /// </summary>
    public static Model Cnn(int channels = 1, int imageSize = 28, int classes = 10, int width = 8, long seed = 0)
    {
        if (imageSize % 4 != 0) throw new ArgumentException($"The image size must be divisible by 4, got {imageSize}.");
        var random = new Xoshiro256(seed);
        var graph = new ModelGraph { Name = "cnn" };
        graph.Inputs.Add(new ValueInfo(InputName, DataType.Float32,
            [Dimension.Named("batch"), Dimension.Fixed(channels), Dimension.Fixed(imageSize), Dimension.Fixed(imageSize)]));
        var x = Block(graph, random, "conv1", InputName, channels, width);
        x = Block(graph, random, "conv2", x, width, 2 * width);
        graph.Nodes.Add(new Node("Flatten", [x], ["features"], "flatten") { Attributes = { NodeAttribute.Int("axis", 1) } });
        var features = 2 * width * (imageSize / 4) * (imageSize / 4);
        graph.Initializers["fc.weight"] = Normal(random, [classes, features], Math.Sqrt(1.0 / features));
        graph.Initializers["fc.bias"] = Tensor<float>.Allocate([classes], clear: true);
        graph.Nodes.Add(new Node("Gemm", ["features", "fc.weight", "fc.bias"], [OutputName], "fc") { Attributes = { NodeAttribute.Int("transB", 1) } });
        graph.Outputs.Add(new ValueInfo(OutputName, DataType.Float32, [Dimension.Named("batch"), Dimension.Fixed(classes)]));
        return Finish(graph);
    }

    /// <summary>
    /// A copy of <paramref name="model"/> with its own float initializers (Model.Clone shares tensors, and
    /// training changes them in place): train the copy and the original keeps its weights.
    /// </summary>
    public static Model DeepCopy(Model model)
    {
        var copy = model.Clone();
        foreach (var (name, tensor) in model.Graph.Initializers)
            if (tensor is Tensor<float> f) copy.Graph.Initializers[name] = Tensor<float>.FromArray(f.ToArray(), f.CopyShape());
        return copy;
    }

    private static string Block(ModelGraph graph, Xoshiro256 random, string name, string input, int inChannels, int outChannels)
    {
        graph.Initializers[$"{name}.weight"] = Normal(random, [outChannels, inChannels, 3, 3], Math.Sqrt(2.0 / (inChannels * 9)));
        graph.Initializers[$"{name}.bias"] = Tensor<float>.Allocate([outChannels], clear: true);
        graph.Nodes.Add(new Node("Conv", [input, $"{name}.weight", $"{name}.bias"], [$"{name}.out"], name)
        {
            Attributes = { NodeAttribute.Ints("kernel_shape", [3, 3]), NodeAttribute.Ints("pads", [1, 1, 1, 1]) },
        });
        graph.Nodes.Add(new Node("Relu", [$"{name}.out"], [$"{name}.relu"], $"{name}.relu"));
        graph.Nodes.Add(new Node("MaxPool", [$"{name}.relu"], [$"{name}.pool"], $"{name}.pool")
        {
            Attributes = { NodeAttribute.Ints("kernel_shape", [2, 2]), NodeAttribute.Ints("strides", [2, 2]) },
        });
        return $"{name}.pool";
    }

    private static Model Finish(ModelGraph graph)
    {
        var model = new Model(graph) { ProducerName = "Sparrow.Training", IrVersion = 8 };
        model.OpsetImports[""] = 17;
        return model;
    }

    private static Tensor<float> Normal(Xoshiro256 random, int[] shape, double std)
    {
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(std * random.NextGaussian());
        // Wrapped arrays are never returned to the pool, so the model may keep them for as long as it lives.
        return Tensor<float>.FromArray(data, shape);
    }
}
