using Google.Protobuf;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Onnx.Proto;

namespace Sparrow.Graph.Tests;

/// <summary>Malformed and hostile model files get a <see cref="ModelException"/> that names the part at fault.</summary>
public sealed class BadModelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparrow-bad-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ModelProto ValidProto() => ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(TestModels.Linear()));

    [Fact]
    public void Missing_file_is_named()
    {
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(Path.Combine(_folder, "nope.onnx")));
        Assert.Contains("nope.onnx", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void Text_file_is_not_a_model()
    {
        var path = Path.Combine(_folder, "text.onnx");
        File.WriteAllText(path, "this is not a protobuf model\n");
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(path));
        Assert.Contains("text.onnx", e.Message);
    }

    [Fact]
    public void Empty_file_has_no_graph()
    {
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(Array.Empty<byte>()));
        Assert.Contains("no graph", e.Message);
    }

    [Fact]
    public void Every_truncation_loads_or_fails_cleanly()
    {
        var bytes = OnnxExporter.ToBytes(TestModels.Linear());
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

    [Fact]
    public void Random_byte_flips_load_or_fail_cleanly()
    {
        var original = OnnxExporter.ToBytes(TestModels.Linear());
        var random = new Random(1234);
        for (var trial = 0; trial < 3000; trial++)
        {
            var bytes = (byte[])original.Clone();
            var flips = random.Next(1, 6);
            for (var f = 0; f < flips; f++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            try
            {
                OnnxImporter.Load(bytes);
            }
            catch (ModelException)
            {
            }
        }
    }

    [Fact]
    public void Negative_dimension_names_the_initializer()
    {
        var proto = ValidProto();
        proto.Graph.Initializer[0].Dims[0] = -4;
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(proto.ToByteArray()));
        Assert.Contains("initializer 'W'", e.Message);
        Assert.Contains("negative dimension", e.Message);
    }

    [Fact]
    public void Huge_dimensions_are_refused_before_allocating()
    {
        var proto = ValidProto();
        proto.Graph.Initializer[0].Dims.Clear();
        proto.Graph.Initializer[0].Dims.Add(1L << 20);
        proto.Graph.Initializer[0].Dims.Add(1L << 20);
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(proto.ToByteArray()));
        Assert.Contains("initializer 'W'", e.Message);
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Data_length_that_does_not_match_the_shape_is_named()
    {
        var proto = ValidProto();
        proto.Graph.Initializer[1].RawData = ByteString.CopyFrom(new byte[12]);
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(proto.ToByteArray()));
        Assert.Contains("initializer 'B'", e.Message);
        Assert.Contains("12 bytes", e.Message);
    }

    [Fact]
    public void Unsupported_element_type_is_named()
    {
        var proto = ValidProto();
        proto.Graph.Initializer[1].DataType = (int)TensorProto.Types.DataType.Bfloat16;
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(proto.ToByteArray()));
        Assert.Contains("bfloat16", e.Message);
        Assert.Contains("not support", e.Message);
    }

    [Fact]
    public void Weight_budget_is_enforced()
    {
        var e = Assert.Throws<ModelException>(() =>
            OnnxImporter.Load(OnnxExporter.ToBytes(TestModels.Linear()), options: new OnnxLoadOptions { MaxTotalWeightBytes = 100 }));
        Assert.Contains("limit of 100 bytes", e.Message);
    }

    [Fact]
    public void Deeply_nested_subgraphs_are_refused()
    {
        var inner = new GraphProto { Name = "leaf" };
        for (var depth = 0; depth < 500; depth++)
        {
            var node = new NodeProto { OpType = "If" };
            node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = inner });
            inner = new GraphProto { Name = $"level{depth}" };
            inner.Node.Add(node);
        }
        var model = new ModelProto { IrVersion = 8, Graph = inner };
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(model.ToByteArray()));
        Assert.Contains("not a valid ONNX model", e.Message);
    }

    /// <summary>Writes the test model with weight W moved to the external file <paramref name="location"/>; returns the model's path.</summary>
    private string WriteWithExternalWeight(string modelName, string location)
    {
        var proto = ValidProto();
        var w = proto.Graph.Initializer[0];
        w.RawData = ByteString.Empty;
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        var path = Path.Combine(_folder, modelName);
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }

    [Fact]
    public void External_data_outside_the_model_folder_is_refused()
    {
        var path = WriteWithExternalWeight("escape.onnx", "../../etc/passwd");
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(path));
        Assert.Contains("outside the model's folder", e.Message);
    }

    /// <summary>Links are followed: the Hugging Face cache keeps external data as a link from snapshots/ into blobs/.</summary>
    [Fact]
    public void External_data_reached_through_a_link_is_read()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(WriteWithExternalWeight("linked.onnx", "link.bin")));
        var needed = proto.Graph.Initializer[0].Dims.Aggregate(4L, (a, d) => a * d);
        var blobs = Directory.CreateDirectory(Path.Combine(_folder, "blobs")).FullName;
        var blob = Path.Combine(blobs, "abc123");
        File.WriteAllBytes(blob, Enumerable.Range(0, (int)needed).Select(i => (byte)(i % 7)).ToArray());
        File.CreateSymbolicLink(Path.Combine(_folder, "link.bin"), blob);
        var loaded = OnnxImporter.Load(Path.Combine(_folder, "linked.onnx"));
        Assert.Equal(File.ReadAllBytes(blob), loaded.Graph.Initializers[proto.Graph.Initializer[0].Name].AsBytes().ToArray());
    }

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("-1")]
    public void An_external_offset_past_the_file_is_refused_clearly(string offset)
    {
        var path = WriteWithExternalWeight("offset.onnx", "w.bin");
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        proto.Graph.Initializer[0].ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset });
        File.WriteAllBytes(path, proto.ToByteArray());
        File.WriteAllBytes(Path.Combine(_folder, "w.bin"), new byte[4096]);
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(path));
        Assert.Contains("w.bin", e.Message);
    }

    [Fact]
    public void A_base_folder_ending_in_a_separator_still_finds_external_data()
    {
        var model = WriteWithExternalWeight("slash.onnx", "w.bin");
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
        var needed = proto.Graph.Initializer[0].Dims.Aggregate(4L, (a, d) => a * d);
        File.WriteAllBytes(Path.Combine(_folder, "w.bin"), new byte[needed]);
        var loaded = OnnxImporter.Load(File.ReadAllBytes(model), _folder + Path.DirectorySeparatorChar);
        Assert.Equal(needed / 4, loaded.Graph.Initializers[proto.Graph.Initializer[0].Name].Length);
    }

    [Fact]
    public void Missing_external_data_file_is_named()
    {
        var path = WriteWithExternalWeight("missing.onnx", "weights.bin");
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(path));
        Assert.Contains("weights.bin", e.Message);
    }

    [Fact]
    public void Short_external_data_file_is_refused()
    {
        var path = WriteWithExternalWeight("short.onnx", "short.bin");
        File.WriteAllBytes(Path.Combine(_folder, "short.bin"), new byte[10]);
        var e = Assert.Throws<ModelException>(() => OnnxImporter.Load(path));
        Assert.Contains("short.bin", e.Message);
    }
}
