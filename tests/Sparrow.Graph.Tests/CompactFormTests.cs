using Google.Protobuf;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Onnx.Proto;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests;

/// <summary>
/// The compact form (standard ONNX sparse initializers): values and masks come back bit for bit, the file shrinks
/// with the sparsity, and hostile sparse initializers fail with a <see cref="ModelException"/> naming the tensor.
/// </summary>
public sealed class CompactFormTests
{
    private static readonly OnnxSaveOptions Compact = new() { Compact = true };

    /// <summary>A model whose only content is the given initializers (the importer needs no nodes).</summary>
    private static Model ModelOf(params (string Name, Tensor Tensor)[] initializers)
    {
        var graph = new ModelGraph { Name = "weights" };
        foreach (var (name, tensor) in initializers) graph.Initializers[name] = tensor;
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 17;
        return model;
    }

    private static float[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        // Never exactly zero, so that the mask is exactly the non-zeros.
        return Enumerable.Range(0, count).Select(_ => (random.NextSingle() + 0.01f) * (random.Next(2) == 0 ? -1 : 1)).ToArray();
    }

    private static Tensor<float> Masked(float[] values, bool[] keep, params int[] shape)
    {
        var data = values.Select((v, i) => keep[i] ? v : 0f).ToArray();
        return Tensor<float>.FromArray(data, shape);
    }

    private static bool[] UnstructuredMask(int count, double sparsity, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextDouble() >= sparsity).ToArray();
    }

    /// <summary>N:M along the last axis: each group of M keeps N, chosen at random.</summary>
    private static bool[] NOfMMask(int rows, int columns, int n, int m, int seed)
    {
        var random = new Random(seed);
        var mask = new bool[rows * columns];
        for (var start = 0; start < mask.Length; start += m)
            foreach (var k in Enumerable.Range(0, m).OrderBy(_ => random.Next()).Take(n)) mask[start + k] = true;
        return mask;
    }

    private static bool[] BlockMask(int rows, int columns, int blockRows, int blockColumns, double sparsity, int seed)
    {
        var random = new Random(seed);
        var mask = new bool[rows * columns];
        for (var br = 0; br < rows; br += blockRows)
            for (var bc = 0; bc < columns; bc += blockColumns)
            {
                var keep = random.NextDouble() >= sparsity;
                for (var r = br; r < br + blockRows; r++)
                    for (var c = bc; c < bc + blockColumns; c++) mask[r * columns + c] = keep;
            }
        return mask;
    }

    private static (Model Loaded, ModelProto Proto, IReadOnlyDictionary<string, bool[]> Masks) RoundTrip(Model model, OnnxSaveOptions? options = null)
    {
        var bytes = OnnxExporter.ToBytes(model, options ?? Compact);
        return (OnnxImporter.Load(bytes), ModelProto.Parser.ParseFrom(bytes), OnnxImporter.LoadStoredMasks(bytes));
    }

    private static bool[] NonZeros(Tensor t) => t.ElementType switch
    {
        DataType.Float32 => t.As<float>().Span.ToArray().Select(v => BitConverter.SingleToUInt32Bits(v) != 0).ToArray(),
        DataType.Float64 => t.As<double>().Span.ToArray().Select(v => BitConverter.DoubleToUInt64Bits(v) != 0).ToArray(),
        DataType.Float16 => t.As<Half>().Span.ToArray().Select(v => BitConverter.HalfToUInt16Bits(v) != 0).ToArray(),
        _ => throw new NotSupportedException(),
    };

    private static void AssertSameBits(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.ElementType, actual.ElementType);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        Assert.True(expected.AsBytes().SequenceEqual(actual.AsBytes()), "the values differ");
    }

    public static TheoryData<string> Patterns => new() { "unstructured-90", "unstructured-50", "unstructured-70", "2:4", "1:4", "4:8", "block-1x4", "block-4x4" };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Pattern_masks_and_values_come_back_bit_for_bit(string pattern)
    {
        const int rows = 48, columns = 64;
        var mask = pattern switch
        {
            "unstructured-90" => UnstructuredMask(rows * columns, 0.9, 1),
            "unstructured-50" => UnstructuredMask(rows * columns, 0.5, 2),
            "unstructured-70" => UnstructuredMask(rows * columns, 0.7, 3),
            "2:4" => NOfMMask(rows, columns, 2, 4, 4),
            "1:4" => NOfMMask(rows, columns, 1, 4, 5),
            "4:8" => NOfMMask(rows, columns, 4, 8, 6),
            "block-1x4" => BlockMask(rows, columns, 1, 4, 0.8, 7),
            _ => BlockMask(rows, columns, 4, 4, 0.75, 8),
        };
        var weight = Masked(RandomValues(rows * columns, 9), mask, rows, columns);
        var (loaded, proto, masks) = RoundTrip(ModelOf(("w", weight)));

        AssertSameBits(weight, loaded.Graph.Initializers["w"]);
        // At 50% density a float32 with int16 indices (6 bytes per value) is still smaller than dense.
        Assert.Single(proto.Graph.SparseInitializer);
        Assert.Empty(proto.Graph.Initializer);
        Assert.Equal(mask, masks["w"]);
        Assert.Equal(mask, NonZeros(loaded.Graph.Initializers["w"]));
    }

    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 7 })]
    [InlineData(new[] { 128 })]
    [InlineData(new[] { 129 })]
    [InlineData(new[] { 3, 5, 7 })]
    [InlineData(new[] { 1, 1, 1, 33 })]
    [InlineData(new[] { 257, 131 })]
    [InlineData(new[] { 2, 3, 5, 7, 11 })]
    public void Odd_shapes_round_trip(int[] shape)
    {
        var count = shape.Aggregate(1, (a, b) => a * b);
        var mask = UnstructuredMask(count, 0.85, count);
        var weight = Masked(RandomValues(count, 3), mask, shape);
        var (loaded, _, masks) = RoundTrip(ModelOf(("w", weight)));
        AssertSameBits(weight, loaded.Graph.Initializers["w"]);
        Assert.Equal(NonZeros(weight), NonZeros(loaded.Graph.Initializers["w"]));
        if (masks.TryGetValue("w", out var stored)) Assert.Equal(mask, stored);
    }

    [Fact]
    public void All_zero_tensor_is_stored_with_no_values()
    {
        var zeros = Tensor<float>.FromArray(new float[12 * 9], 12, 9);
        var (loaded, proto, masks) = RoundTrip(ModelOf(("z", zeros)));
        var sparse = Assert.Single(proto.Graph.SparseInitializer);
        Assert.Equal(0, sparse.Values.Dims[0]);
        Assert.Equal(new long[] { 12, 9 }, sparse.Dims.ToArray());
        AssertSameBits(zeros, loaded.Graph.Initializers["z"]);
        Assert.All(masks["z"], kept => Assert.False(kept));
    }

    [Fact]
    public void Dense_tensors_and_non_float_tensors_stay_plain_initializers()
    {
        var dense = Tensor<float>.FromArray(RandomValues(200, 1), 10, 20);
        var mostlyDense = Masked(RandomValues(200, 2), UnstructuredMask(200, 0.3, 3), 200);
        var shape = Tensor<long>.FromArray(new long[] { 0, 0, 0, 0, 0, 0, 1 }, 7);
        var scalar = Tensor<float>.FromArray(new[] { 0f });
        var (loaded, proto, masks) = RoundTrip(ModelOf(("dense", dense), ("mostly", mostlyDense), ("shape", shape), ("scalar", scalar)));
        Assert.Empty(proto.Graph.SparseInitializer);
        Assert.Empty(masks);
        AssertSameBits(dense, loaded.Graph.Initializers["dense"]);
        AssertSameBits(mostlyDense, loaded.Graph.Initializers["mostly"]);
        AssertSameBits(shape, loaded.Graph.Initializers["shape"]);
        AssertSameBits(scalar, loaded.Graph.Initializers["scalar"]);
        Assert.Equal(8, proto.IrVersion);
    }

    [Fact]
    public void Initializer_order_and_names_are_kept_across_both_kinds()
    {
        var sparse = Masked(RandomValues(100, 1), UnstructuredMask(100, 0.9, 2), 100);
        var dense = Tensor<float>.FromArray(RandomValues(10, 3), 10);
        var (loaded, _, _) = RoundTrip(ModelOf(("a", dense), ("b", sparse), ("c", dense.Clone())));
        // Dense ones first, then the sparse ones: names and contents matter, the order of initializers does not.
        Assert.Equal(new[] { "a", "b", "c" }, loaded.Graph.Initializers.Keys.Order().ToArray());
        AssertSameBits(sparse, loaded.Graph.Initializers["b"]);
    }

    [Fact]
    public void Negative_zero_and_special_values_are_stored_and_come_back()
    {
        var values = new float[64];
        values[3] = -0.0f;
        values[10] = float.NaN;
        values[20] = float.PositiveInfinity;
        values[30] = float.Epsilon;
        var weight = Tensor<float>.FromArray(values, 8, 8);
        var (loaded, proto, masks) = RoundTrip(ModelOf(("w", weight)));
        Assert.Equal(4, proto.Graph.SparseInitializer[0].Values.Dims[0]);
        AssertSameBits(weight, loaded.Graph.Initializers["w"]);
        Assert.True(masks["w"][3]);
        Assert.True(float.IsNegative(loaded.Graph.Initializers["w"].As<float>().Span[3]));
    }

    [Fact]
    public void Float16_and_float64_round_trip()
    {
        var mask = UnstructuredMask(300, 0.9, 4);
        var values = RandomValues(300, 5);
        var half = Tensor<Half>.FromArray(values.Select((v, i) => mask[i] ? (Half)v : Half.Zero).ToArray(), 15, 20);
        var wide = Tensor<double>.FromArray(values.Select((v, i) => mask[i] ? v * 1.000000001 : 0.0).ToArray(), 20, 15);
        var (loaded, proto, masks) = RoundTrip(ModelOf(("h", half), ("d", wide)));
        Assert.Equal(2, proto.Graph.SparseInitializer.Count);
        AssertSameBits(half, loaded.Graph.Initializers["h"]);
        AssertSameBits(wide, loaded.Graph.Initializers["d"]);
        Assert.Equal(mask, masks["h"]);
        Assert.Equal(mask, masks["d"]);
    }

    [Theory]
    [InlineData(2, DataType.Int8)]
    [InlineData(128, DataType.Int8)]
    [InlineData(129, DataType.Int16)]
    [InlineData(32768, DataType.Int16)]
    [InlineData(32769, DataType.Int32)]
    public void Indices_use_the_narrowest_type_that_holds_every_position(int count, DataType expected)
    {
        Assert.Equal(expected, SparseInitializers.IndexTypeFor(count));
        var values = new float[count];
        values[^1] = 1.5f;
        var (loaded, proto, _) = RoundTrip(ModelOf(("w", Tensor<float>.FromArray(values, count))));
        Assert.Equal((int)expected, proto.Graph.SparseInitializer[0].Indices.DataType);
        Assert.Equal(1.5f, loaded.Graph.Initializers["w"].As<float>().Span[^1]);
    }

    [Fact]
    public void Explicit_mask_keeps_a_kept_weight_that_is_exactly_zero()
    {
        var mask = UnstructuredMask(40 * 30, 0.9, 11);
        var values = Masked(RandomValues(40 * 30, 12), mask, 40, 30);
        var keptZero = Array.IndexOf(mask, true);
        values.Span[keptZero] = 0f;
        var (loaded, _, masks) = RoundTrip(ModelOf(("w", values)), Compact with { Masks = new Dictionary<string, bool[]> { ["w"] = mask } });
        Assert.Equal(mask, masks["w"]);
        Assert.True(masks["w"][keptZero]);
        AssertSameBits(values, loaded.Graph.Initializers["w"]);

        // Without the mask the file stores the non-zeros only: the kept zero reads as pruned.
        var (_, _, plain) = RoundTrip(ModelOf(("w", values)));
        Assert.False(plain["w"][keptZero]);
    }

    [Fact]
    public void Mask_that_prunes_a_non_zero_value_is_refused()
    {
        var values = Tensor<float>.FromArray(RandomValues(16, 1), 4, 4);
        var mask = new bool[16];
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(ModelOf(("w", values)), Compact with { Masks = new Dictionary<string, bool[]> { ["w"] = mask } }));
        Assert.Contains("'w'", e.Message);
        e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(ModelOf(("w", values)), Compact with { Masks = new Dictionary<string, bool[]> { ["w"] = new bool[3] } }));
        Assert.Contains("3 flags", e.Message);
        e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(ModelOf(("w", values)), Compact with { Masks = new Dictionary<string, bool[]> { ["v"] = mask } }));
        Assert.Contains("'v'", e.Message);
        e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(ModelOf(("w", values)), new OnnxSaveOptions { Masks = new Dictionary<string, bool[]> { ["w"] = mask } }));
        Assert.Contains("Compact", e.Message);
    }

    [Fact]
    public void File_shrinks_with_the_sparsity()
    {
        const int rows = 384, columns = 1536;
        var values = RandomValues(rows * columns, 1);
        var dense = OnnxExporter.ToBytes(ModelOf(("w", Tensor<float>.FromArray(values, rows, columns))), Compact).Length;
        var previous = long.MaxValue;
        foreach (var sparsity in new[] { 0.5, 0.7, 0.9, 0.95 })
        {
            var size = OnnxExporter.ToBytes(ModelOf(("w", Masked(values, UnstructuredMask(values.Length, sparsity, 2), rows, columns))), Compact).Length;
            Assert.True(size < previous, $"{sparsity}: {size} bytes, not below {previous}");
            // 4 bytes of value and 4 of index per non-zero, within 2% for the randomness of the mask and the framing.
            Assert.InRange((double)size / dense, 0, (1 - sparsity) * 2 * 1.02 + 0.001);
            previous = size;
        }
    }

    [Fact]
    public void Coordinate_indices_of_the_onnx_standard_are_read()
    {
        // [NNZ, rank] int64 coordinates, as other tools may write them.
        var proto = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        proto.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        proto.Graph.SparseInitializer.Add(Sparse("w", [3, 4], [1.5f, -2f, 3f], DataType.Int64, [0, 1, 1, 3, 2, 0], coordinates: true));
        var model = OnnxImporter.Load(proto.ToByteArray());
        Assert.Equal(new[] { 0f, 1.5f, 0, 0, 0, 0, 0, -2f, 3f, 0, 0, 0 }, model.Graph.Initializers["w"].As<float>().Span.ToArray());
    }

    // ---- hostile files ----

    private static SparseTensorProto Sparse(string name, long[] dims, float[] values, DataType indexType, long[] indices, bool coordinates = false)
    {
        var sparse = new SparseTensorProto
        {
            Values = new TensorProto { Name = name, DataType = (int)DataType.Float32, RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()) },
            Indices = new TensorProto { DataType = (int)indexType },
        };
        sparse.Values.Dims.Add(values.Length);
        sparse.Indices.Dims.Add(coordinates ? indices.Length / Math.Max(1, dims.Length) : indices.Length);
        if (coordinates) sparse.Indices.Dims.Add(dims.Length);
        sparse.Dims.Add(dims);
        byte[] raw = indexType switch
        {
            DataType.Int8 => indices.Select(i => (byte)(sbyte)i).ToArray(),
            DataType.Int16 => indices.SelectMany(i => BitConverter.GetBytes((short)i)).ToArray(),
            DataType.Int32 => indices.SelectMany(i => BitConverter.GetBytes((int)i)).ToArray(),
            DataType.Int64 => indices.SelectMany(BitConverter.GetBytes).ToArray(),
            _ => indices.SelectMany(i => BitConverter.GetBytes((float)i)).ToArray(),
        };
        sparse.Indices.RawData = ByteString.CopyFrom(raw);
        return sparse;
    }

    private static ModelException LoadFails(Action<GraphProto> corrupt, OnnxLoadOptions? options = null)
    {
        var proto = ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(TestModels.Linear()));
        corrupt(proto.Graph);
        var bytes = proto.ToByteArray();
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(bytes, options: options));
        Assert.Throws<ModelException>(() => OnnxImporter.LoadStoredMasks(bytes, options: options));
        return e;
    }

    public static TheoryData<string, string> HostileCases => new()
    {
        { "out-of-range", "outside [0, 12)" },
        { "negative", "outside [0, 12)" },
        { "duplicate", "stored twice" },
        { "descending", "ascending order" },
        { "count-mismatch", "indices have shape [2]" },
        { "values-2d", "1-D [NNZ]" },
        { "float-indices", "int8, int16, int32 or int64" },
        { "too-many-values", "more than the 12 elements" },
        { "negative-dim", "negative dimension" },
        { "huge-dims", "more than the limit" },
        { "coordinate-out-of-range", "coordinate 4 on axis 1" },
        { "coordinates-wrong-rank", "[2,2] (coordinates)" },
        { "int8-negative", "outside [0, 12)" },
        { "short-raw-data", "bytes of data" },
    };

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void Hostile_sparse_initializers_fail_with_a_clear_error(string kind, string expected)
    {
        var e = LoadFails(g => g.SparseInitializer.Add(kind switch
        {
            "out-of-range" => Sparse("evil", [3, 4], [1, 2], DataType.Int32, [3, 12]),
            "negative" => Sparse("evil", [3, 4], [1, 2], DataType.Int64, [-1, 5]),
            "duplicate" => Sparse("evil", [3, 4], [1, 2, 3], DataType.Int16, [1, 5, 5]),
            "descending" => Sparse("evil", [3, 4], [1, 2], DataType.Int32, [7, 2]),
            "count-mismatch" => Sparse("evil", [3, 4], [1, 2, 3], DataType.Int32, [1, 2]),
            "values-2d" => WithValuesDims(Sparse("evil", [3, 4], [1, 2], DataType.Int32, [1, 2]), 1, 2),
            "float-indices" => Sparse("evil", [3, 4], [1, 2], DataType.Float32, [1, 2]),
            "too-many-values" => Sparse("evil", [3, 4], new float[13], DataType.Int32, Enumerable.Range(0, 13).Select(i => (long)i).ToArray()),
            "negative-dim" => Sparse("evil", [3, -4], [1], DataType.Int32, [1]),
            "huge-dims" => Sparse("evil", [1L << 40, 1L << 40], [1], DataType.Int64, [1]),
            "coordinate-out-of-range" => Sparse("evil", [3, 4], [1, 2], DataType.Int64, [0, 1, 2, 4], coordinates: true),
            "coordinates-wrong-rank" => WithIndexDims(Sparse("evil", [3, 4], [1, 2], DataType.Int64, [0, 1, 2, 3]), 2, 2, 1),
            "int8-negative" => Sparse("evil", [3, 4], [1], DataType.Int8, [-128]),
            _ => WithRawIndices(Sparse("evil", [3, 4], [1, 2], DataType.Int32, [1, 2]), 7),
        }));
        Assert.Contains("'evil'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    private static SparseTensorProto WithValuesDims(SparseTensorProto sparse, params long[] dims)
    {
        sparse.Values.Dims.Clear();
        sparse.Values.Dims.Add(dims);
        return sparse;
    }

    private static SparseTensorProto WithIndexDims(SparseTensorProto sparse, params long[] dims)
    {
        sparse.Indices.Dims.Clear();
        sparse.Indices.Dims.Add(dims);
        return sparse;
    }

    private static SparseTensorProto WithRawIndices(SparseTensorProto sparse, int bytes)
    {
        sparse.Indices.RawData = ByteString.CopyFrom(new byte[bytes]);
        return sparse;
    }

    [Fact]
    public void Sparse_initializer_that_repeats_a_dense_one_is_refused()
    {
        var e = LoadFails(g => g.SparseInitializer.Add(Sparse("W", [16, 8], [1], DataType.Int32, [0])));
        Assert.Contains("'W' is declared twice", e.Message);
    }

    [Fact]
    public void Sparse_initializer_without_values_indices_or_name_is_refused()
    {
        var e = LoadFails(g => g.SparseInitializer.Add(new SparseTensorProto { Values = Sparse("half", [4], [1], DataType.Int8, [0]).Values }));
        Assert.Contains("'half' lacks its indices", e.Message);
        e = LoadFails(g => g.SparseInitializer.Add(new SparseTensorProto { Indices = new TensorProto { DataType = (int)DataType.Int8 } }));
        Assert.Contains("lacks its values", e.Message);
        e = LoadFails(g => g.SparseInitializer.Add(Sparse("", [4], [1], DataType.Int8, [0])));
        Assert.Contains("no name", e.Message);
    }

    [Fact]
    public void Dense_size_of_sparse_initializers_counts_against_the_weight_limit()
    {
        // A few bytes on disk that would expand to 4 GB: refused before anything is allocated.
        var e = LoadFails(g => g.SparseInitializer.Add(Sparse("bomb", [1L << 20, 1L << 10], [1], DataType.Int32, [0])),
            new OnnxLoadOptions { MaxTotalWeightBytes = 1L << 30, MaxSparseExpansion = 1L << 40 });
        Assert.Contains("'bomb'", e.Message);
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Sparse_initializers_may_not_expand_far_beyond_the_file_size()
    {
        // 1 GiB of zeros from a few hundred bytes is within every other limit, but not a real pruned model.
        var e = LoadFails(g => g.SparseInitializer.Add(Sparse("zeros", [1L << 14, 1L << 14], [1], DataType.Int32, [0])));
        Assert.Contains("'zeros'", e.Message);
        Assert.Contains("times the file's", e.Message);
        // The same file loads when the caller allows the expansion.
        var proto = ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(TestModels.Linear()));
        proto.Graph.SparseInitializer.Add(Sparse("zeros", [1L << 10, 1L << 10], [1], DataType.Int32, [0]));
        var model = OnnxImporter.Load(proto.ToByteArray(), options: new OnnxLoadOptions { MinSparseExpansionBytes = 0, MaxSparseExpansion = 1L << 20 });
        Assert.Equal(1L << 20, model.Graph.Initializers["zeros"].Length);
        Assert.Throws<ModelException>(() => OnnxImporter.Load(proto.ToByteArray(), options: new OnnxLoadOptions { MinSparseExpansionBytes = 0 }));
    }

    [Fact]
    public void Every_truncation_of_a_compact_file_loads_or_fails_cleanly()
    {
        var weight = Masked(RandomValues(64, 1), UnstructuredMask(64, 0.8, 2), 8, 8);
        var bytes = OnnxExporter.ToBytes(ModelOf(("w", weight)), Compact);
        for (var length = 0; length < bytes.Length; length++)
        {
            try
            {
                OnnxImporter.Load(bytes.AsSpan(0, length));
            }
            catch (ModelException)
            {
            }
        }
    }
}
