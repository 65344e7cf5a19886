using CsCheck;
using Google.Protobuf;
using Sparrow.Fuzz;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Onnx.Proto;
using Sparrow.TestSupport;

namespace Sparrow.Runtime.Tests.Reliability;

/// <summary>
/// Property-based mutation of real models (CsCheck): flipped bytes, truncation, huge or negative dimensions, wrong
/// data lengths, cycles, missing inputs, deep nesting. Each mutant goes through the fuzz target (import, compile,
/// one run): it must finish within a bound of time and allocation and either work or stop with a clear error.
/// </summary>
public sealed class ModelMutationTests
{
    /// <summary>Fixed CsCheck seed: the same mutants on every run (a failure prints the seed of its case).</summary>
    private const string Seed = "0000000Hd3WH";
    private const int Iterations = 300;

    /// <summary>The seeds: a built MLP and small operator test models (a subgraph one included) when ../shared is there.</summary>
    private static readonly byte[][] Originals = LoadOriginals();

    private static byte[][] LoadOriginals()
    {
        var list = new List<byte[]> { OnnxExporter.ToBytes(LoaderTarget.SmallMlp()) };
        if (SharedFolder.NodeTests is { } folder)
            foreach (var name in new[] { "test_gemm_default_single_elem_vector_bias", "test_conv_with_strides_padding", "test_layer_normalization_2d_axis0", "test_if", "test_gather_0", "test_reshape_reduced_dims" })
                if (File.Exists(Path.Combine(folder, name, "model.onnx"))) list.Add(File.ReadAllBytes(Path.Combine(folder, name, "model.onnx")));
        return list.ToArray();
    }

    /// <summary>Runs the target on another thread: it must end within 30 s, allocate under 512 MB and throw nothing but a clear refusal.</summary>
    private static (string Stage, Exception? Error) Bounded(byte[] bytes)
    {
        long allocated = 0;
        var task = Task.Run(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                return LoaderTarget.Explain(bytes);
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        });
        if (!task.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException($"a mutant of {bytes.Length} bytes ran over 30 s");
        var result = task.Result;
        Assert.True(allocated < 512L << 20, $"a mutant allocated {allocated} bytes");
        if (result.Error is { } e) Assert.False(string.IsNullOrWhiteSpace(e.Message));
        return result;
    }

    private static readonly Gen<byte[]> Original = Gen.Int[0, Originals.Length - 1].Select(i => Originals[i]);

    [Fact]
    public void Flipped_bytes_load_or_fail_cleanly() =>
        Gen.Select(Original, Gen.Int[1, 8], Gen.Int).Sample((original, flips, seed) =>
        {
            var bytes = (byte[])original.Clone();
            var random = new Random(seed);
            for (var f = 0; f < flips; f++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            Bounded(bytes);
        }, seed: Seed, iter: Iterations, threads: 1);

    [Fact]
    public void Truncated_models_load_or_fail_cleanly() =>
        Gen.Select(Original, Gen.Double[0, 1]).Sample((original, fraction) =>
            Bounded(original.AsSpan(0, (int)(original.Length * fraction)).ToArray()), seed: Seed, iter: Iterations, threads: 1);

    private static readonly Gen<long> HostileDimension = Gen.OneOf<long>(-1L, -7L, long.MinValue, 0L, 1L << 31, 1L << 40, long.MaxValue, 3L);

    [Fact]
    public void Huge_or_negative_initializer_dimensions_are_refused_by_name() =>
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 1], HostileDimension).Sample((which, axis, dim) =>
        {
            var proto = ModelProto.Parser.ParseFrom(Originals[0]);
            var tensor = proto.Graph.Initializer[which];
            if (axis >= tensor.Dims.Count) axis = 0;
            var was = tensor.Dims[axis];
            tensor.Dims[axis] = dim;
            var (stage, error) = Bounded(proto.ToByteArray());
            if (dim == was) return;
            // Any other element count disagrees with the data the tensor carries: refused at import, naming the tensor.
            Assert.Equal("refused at import", stage);
            Assert.Contains($"'{tensor.Name}'", error!.Message);
        }, seed: Seed, iter: 100, threads: 1);

    [Fact]
    public void Huge_or_negative_input_dimensions_load_or_fail_cleanly() =>
        Gen.Select(Original, Gen.Int[0, 3], HostileDimension).Sample((original, axis, dim) =>
        {
            var proto = ModelProto.Parser.ParseFrom(original);
            foreach (var input in proto.Graph.Input.Concat(proto.Graph.Output))
                if (input.Type?.TensorType?.Shape is { } shape && shape.Dim.Count > 0)
                    shape.Dim[axis % shape.Dim.Count] = new TensorShapeProto.Types.Dimension { DimValue = dim };
            Bounded(proto.ToByteArray());
        }, seed: Seed, iter: 100, threads: 1);

    [Fact]
    public void Wrong_data_lengths_are_refused_by_name() =>
        Gen.Select(Gen.Int[0, 2], Gen.Int[-64, 64], Gen.Bool).Sample((which, delta, typed) =>
        {
            if (delta == 0) return;
            var proto = ModelProto.Parser.ParseFrom(Originals[0]);
            var tensor = proto.Graph.Initializer[which];
            var floats = tensor.RawData.Length > 0 ? tensor.RawData.Length / 4 : tensor.FloatData.Count;
            var count = Math.Max(0, floats + delta);
            tensor.RawData = ByteString.Empty;
            tensor.FloatData.Clear();
            if (typed) tensor.FloatData.Add(new float[count]);
            else tensor.RawData = ByteString.CopyFrom(new byte[count * 4 + (delta & 1)]);
            var (stage, error) = Bounded(proto.ToByteArray());
            Assert.Equal("refused at import", stage);
            Assert.Contains($"'{tensor.Name}'", error!.Message);
        }, seed: Seed, iter: 100, threads: 1);

    [Fact]
    public void Cycles_are_refused() =>
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, 4]).Sample((from, to) =>
        {
            // Node `to` reads what node `from` writes, with from >= to: a loop through the graph (or a node reading itself).
            if (from < to) (from, to) = (to, from);
            var proto = ModelProto.Parser.ParseFrom(Originals[0]);
            proto.Graph.Node[to].Input[0] = proto.Graph.Node[from].Output[0];
            var (stage, error) = Bounded(proto.ToByteArray());
            Assert.StartsWith("refused", stage);
            Assert.Contains("cycle", error!.Message, StringComparison.OrdinalIgnoreCase);
        }, seed: Seed, iter: 25, threads: 1);

    [Fact]
    public void Missing_inputs_are_refused_by_name() =>
        Gen.Select(Gen.Int[0, 4], Gen.Bool).Sample((node, dropGraphInput) =>
        {
            var proto = ModelProto.Parser.ParseFrom(Originals[0]);
            if (dropGraphInput) proto.Graph.Input.Clear();
            else proto.Graph.Node[node].Input[0] = "nowhere";
            var (stage, error) = Bounded(proto.ToByteArray());
            Assert.StartsWith("refused", stage);
            Assert.Contains(dropGraphInput ? "'x'" : "'nowhere'", error!.Message);
        }, seed: Seed, iter: 20, threads: 1);

    [Fact]
    public void Deep_nesting_is_refused_or_loads() =>
        Gen.Int[1, 400].Sample(depth =>
        {
            var graph = ModelProto.Parser.ParseFrom(Originals[0]).Graph;
            for (var level = 0; level < depth; level++)
            {
                var node = new NodeProto { OpType = "If", Input = { "c" }, Output = { "y" } };
                node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = graph });
                node.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = new GraphProto { Name = "empty" } });
                graph = new GraphProto { Name = $"level{level}", Node = { node } };
            }
            var model = new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };
            var (stage, error) = Bounded(model.ToByteArray());
            if (depth > 30) Assert.Equal("refused at import", stage);
            if (error is not null) Assert.IsAssignableFrom<ModelException>(error);
        }, seed: Seed, iter: 30, threads: 1);

    /// <summary>Every input the fuzzer once crashed or hung on (scripts/fuzz-loader.sh copies them here) now loads or fails cleanly.</summary>
    [Fact]
    public void Fuzz_corpus_replays_cleanly()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
        // Six inputs are committed; fewer here means they were not copied next to the tests and nothing was replayed.
        Assert.True(files.Length >= 6, $"only {files.Length} corpus files found in {folder}");
        foreach (var file in files) Bounded(File.ReadAllBytes(file));
    }
}
