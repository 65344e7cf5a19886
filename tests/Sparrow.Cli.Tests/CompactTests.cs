using Sparrow.Cli.Execution;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

/// <summary>MiniLM pruned to 90% with its embedding tables too, written in the standard and the compact form once.</summary>
public sealed class FullyPrunedMiniLm : IDisposable
{
    public FullyPrunedMiniLm()
    {
        DenseBytes = DefaultModel.OnnxBytes.Length;
        var model = OnnxImporter.Load(DefaultModel.OnnxBytes, sourceName: DefaultModel.Name);
        var settings = new PruneSettings { Sparsity = 0.9, Targets = new TargetSelection { Embeddings = true } };
        (Pruned, Layers) = Pruner.Prune(model, settings);
        OnnxExporter.Save(Pruned, StandardPath);
        OnnxExporter.Save(Pruned, CompactPath, new OnnxSaveOptions { Compact = true });
    }

    private readonly TempDirectory _folder = new();

    public long DenseBytes { get; }

    public Model Pruned { get; }

    public IReadOnlyList<LayerSparsity> Layers { get; }

    public string StandardPath => _folder.File("minilm-90.onnx");

    public string CompactPath => _folder.File("minilm-90.compact.onnx");

    public void Dispose() => _folder.Dispose();
}

/// <summary>The compact form of a pruned model through the library, the CLI and ONNX Runtime.</summary>
public sealed class CompactTests(FullyPrunedMiniLm minilm) : IClassFixture<FullyPrunedMiniLm>
{
    private static IReadOnlyDictionary<string, Tensor> Sentences() =>
        SentenceTokenizer.Default.EncodeBatch(["The quick brown fox jumps over the lazy dog.", "Sparse models are smaller."]).ToInputs();

    private static void AssertSameInitializers(Model expected, Model actual)
    {
        Assert.Equal(expected.Graph.Initializers.Keys.Order(), actual.Graph.Initializers.Keys.Order());
        foreach (var (name, tensor) in expected.Graph.Initializers)
        {
            var other = actual.Graph.Initializers[name];
            Assert.Equal(tensor.ElementType, other.ElementType);
            Assert.Equal(tensor.Shape.ToArray(), other.Shape.ToArray());
            Assert.True(tensor.AsBytes().SequenceEqual(other.AsBytes()), $"initializer '{name}' differs");
        }
    }

    private static int SparseCount(string output) =>
        int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"(\d+) weights? stored sparse").Groups[1].Value);

    [Fact]
    public void Fully_pruned_minilm_at_90_percent_is_at_most_a_quarter_of_the_dense_file()
    {
        Assert.Equal(39, minilm.Layers.Count); // 36 encoder matrices and the word, position and token-type tables.
        Assert.Contains(minilm.Layers, l => l.OpType == "Gather" && l.Shape.SequenceEqual([30522, 384]));
        var compact = new FileInfo(minilm.CompactPath).Length;
        var standard = new FileInfo(minilm.StandardPath).Length;
        Assert.InRange(standard, minilm.DenseBytes * 0.99, minilm.DenseBytes * 1.01);
        var ratio = (double)compact / minilm.DenseBytes;
        Assert.True(ratio <= 0.25, $"compact {compact} bytes = {ratio:P1} of the dense {minilm.DenseBytes}");
        // 8 bytes per kept weight (value and int32 index) of the 10% kept: about 20%.
        Assert.InRange(ratio, 0.15, 0.25);
    }

    [Fact]
    public void Compact_file_loads_back_the_same_weights_and_masks_bit_for_bit()
    {
        var loaded = OnnxImporter.Load(minilm.CompactPath);
        AssertSameInitializers(minilm.Pruned, loaded);
        var masks = OnnxImporter.LoadStoredMasks(minilm.CompactPath);
        foreach (var layer in minilm.Layers)
        {
            var values = minilm.Pruned.Graph.Initializers[layer.WeightName].As<float>().Span.ToArray();
            Assert.Equal(values.Select(v => v != 0).ToArray(), masks[layer.WeightName]);
            Assert.Equal(layer.Parameters - layer.Zeros, masks[layer.WeightName].Count(k => k));
        }
    }

    [Fact]
    public void Onnx_runtime_gives_the_same_outputs_on_the_compact_and_the_standard_file()
    {
        var inputs = Sentences();
        using var standard = new OrtModelRunner(LoadedModel.Load(minilm.StandardPath), threads: 1);
        using var compact = new OrtModelRunner(LoadedModel.Load(minilm.CompactPath), threads: 1);
        var expected = standard.RunToTensors(inputs);
        var actual = compact.RunToTensors(inputs);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.True(tensor.AsBytes().SequenceEqual(actual[name].AsBytes()), $"ORT output '{name}' differs between the forms");
    }

    [Fact]
    public void Sparrow_gives_the_same_outputs_on_the_compact_and_the_standard_file()
    {
        var inputs = Sentences();
        using var standard = new Sparrow.Runtime.InferenceSession(minilm.StandardPath);
        using var compact = new Sparrow.Runtime.InferenceSession(minilm.CompactPath);
        var expected = standard.Run(inputs);
        var actual = compact.Run(inputs);
        foreach (var (name, tensor) in expected)
            Assert.True(tensor.AsBytes().SequenceEqual(actual[name].AsBytes()), $"output '{name}' differs between the forms");
    }

    [Fact]
    public void Inspect_reads_a_compact_file()
    {
        var r = CliRunner.Run("inspect", minilm.CompactPath, "--seq", "8", "--sparse-kernel", "csr");
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        Assert.Contains("90.0%", r.Output);
    }

    [Fact]
    public void Onnx_runtime_reads_int8_and_int16_indices()
    {
        // A small CNN: its pruned convolution weights have fewer than 32768 elements (int16 indices) and a bias
        // with one non-zero of 8 is stored with int8 indices.
        var model = SmallCnn.Build(seed: 3);
        var (pruned, layers) = Pruner.Prune(model, new PruneSettings { Sparsity = 0.8 });
        Assert.NotEmpty(layers);
        var bias = pruned.Graph.Initializers.First(kv => kv.Value.Rank == 1 && kv.Value.Length >= 4 && kv.Value.ElementType == DataType.Float32);
        var span = bias.Value.As<float>().Span;
        for (var i = 1; i < span.Length; i++) span[i] = 0;
        span[0] = 0.5f;

        using var folder = new TempDirectory();
        OnnxExporter.Save(pruned, folder.File("standard.onnx"));
        OnnxExporter.Save(pruned, folder.File("compact.onnx"), new OnnxSaveOptions { Compact = true });
        var proto = Sparrow.Graph.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(folder.File("compact.onnx")));
        var indexTypes = proto.Graph.SparseInitializer.Select(s => (DataType)s.Indices.DataType).ToHashSet();
        Assert.Contains(DataType.Int8, indexTypes);
        Assert.Contains(DataType.Int16, indexTypes);

        var random = new Random(5);
        var image = Tensor<float>.FromArray(Enumerable.Range(0, 2 * 3 * 32 * 32).Select(_ => random.NextSingle()).ToArray(), 2, 3, 32, 32);
        var inputs = new Dictionary<string, Tensor> { [SmallCnn.InputName] = image };
        using var standard = new OrtModelRunner(LoadedModel.Load(folder.File("standard.onnx")), threads: 1);
        using var compact = new OrtModelRunner(LoadedModel.Load(folder.File("compact.onnx")), threads: 1);
        var expected = standard.RunToTensors(inputs)[SmallCnn.OutputName];
        var actual = compact.RunToTensors(inputs)[SmallCnn.OutputName];
        Assert.True(expected.AsBytes().SequenceEqual(actual.AsBytes()), "ORT outputs differ between the forms");
        AssertSameInitializers(pruned, OnnxImporter.Load(folder.File("compact.onnx")));
    }

    [Fact]
    public void Prune_compact_writes_the_same_weights_in_a_smaller_file()
    {
        using var folder = new TempDirectory();
        var standard = folder.File("standard.onnx");
        var compact = folder.File("compact.onnx");
        var r = CliRunner.Run("prune", "--sparsity", "0.9", "-o", standard);
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        r = CliRunner.Run("prune", "--sparsity", "0.9", "--compact", "-o", compact);
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        Assert.Contains("in the compact form", r.Output);
        // The 36 pruned weights, and any other float tensor of the model that is mostly zeros (MiniLM has one).
        Assert.InRange(SparseCount(r.Output), 36, 37);
        AssertSameInitializers(OnnxImporter.Load(standard), OnnxImporter.Load(compact));
        // Default targets leave the 47 MB word embeddings dense: about 60% of the dense file.
        Assert.InRange((double)new FileInfo(compact).Length / new FileInfo(standard).Length, 0.5, 0.7);
        Assert.Equal(new[] { "compact.onnx", "standard.onnx" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Compact_command_converts_both_ways_and_never_overwrites_its_input()
    {
        using var folder = new TempDirectory();
        var compact = folder.File("c.onnx");
        var dense = folder.File("d.onnx");
        var r = CliRunner.Run("compact", minilm.StandardPath, "-o", compact);
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        Assert.InRange(SparseCount(r.Output), 39, 40);
        Assert.True(File.ReadAllBytes(compact).SequenceEqual(File.ReadAllBytes(minilm.CompactPath)), "the CLI wrote other bytes than the library");

        r = CliRunner.Run("compact", compact, "--dense", "-o", dense);
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        Assert.Contains("0 weights stored sparse", r.Output);
        AssertSameInitializers(minilm.Pruned, OnnxImporter.Load(dense));

        var before = File.ReadAllBytes(compact);
        r = CliRunner.Run("compact", compact, "-o", compact);
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("never overwrites its input", r.Error);
        Assert.True(before.SequenceEqual(File.ReadAllBytes(compact)));

        r = CliRunner.Run("compact", folder.File("missing.onnx"), "-o", dense);
        Assert.NotEqual(ExitCodes.Success, r.ExitCode);
        Assert.Contains("missing.onnx", r.Error);
        Assert.Equal(new[] { "c.onnx", "d.onnx" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Embeddings_prune_with_magnitude_only()
    {
        using var folder = new TempDirectory();
        var r = CliRunner.Run("prune", "--method", "wanda", "--embeddings", "-o", folder.File("x.onnx"));
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("embedding tables", r.Error);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Embeddings_flag_adds_the_gather_tables_that_include_selects()
    {
        using var folder = new TempDirectory();
        var output = folder.File("emb.onnx");
        var r = CliRunner.Run("prune", "--embeddings", "--include", "embeddings", "--sparsity", "0.6", "--compact", "-o", output);
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        Assert.Contains("Pruned 3 weights", r.Output);
        Assert.Contains("Gather", r.Output);
        var masks = OnnxImporter.LoadStoredMasks(output);
        Assert.Contains(masks, kv => kv.Value.Length == 30522 * 384);
    }
}
