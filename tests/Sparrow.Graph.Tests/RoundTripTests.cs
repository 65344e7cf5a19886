using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.TestSupport;

namespace Sparrow.Graph.Tests;

public sealed class RoundTripTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparrow-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Model_built_in_code_survives_save_and_load()
    {
        var model = TestModels.Linear();
        var path = Path.Combine(_folder, "linear.onnx");
        OnnxExporter.Save(model, path);
        ModelComparer.AssertSame(model, OnnxImporter.Load(path));
    }

    [Fact]
    public void External_data_round_trip_keeps_every_weight()
    {
        var model = TestModels.Linear(inFeatures: 64, outFeatures: 32);
        var path = Path.Combine(_folder, "external.onnx");
        OnnxExporter.Save(model, path, externalDataFile: "external.onnx.data");
        Assert.True(File.Exists(Path.Combine(_folder, "external.onnx.data")));
        // The weight (64x32 floats) went out of the model file.
        Assert.True(new FileInfo(path).Length < 64 * 32 * 4);
        ModelComparer.AssertSame(model, OnnxImporter.Load(path));
    }

    [Fact]
    public void Save_never_leaves_temporary_files()
    {
        OnnxExporter.Save(TestModels.Linear(), Path.Combine(_folder, "a.onnx"), "a.onnx.data");
        Assert.Equal(new[] { "a.onnx", "a.onnx.data" }, Directory.GetFiles(_folder).Select(Path.GetFileName).Order());
    }

    /// <summary>Sequence and optional values keep their declared type through a round trip (they were written as tensors of no type).</summary>
    [NodeTestsFact]
    public void Sequence_and_optional_types_are_written_back_as_they_were()
    {
        foreach (var name in new[] { "test_identity_sequence", "test_optional_get_element_optional_sequence", "test_sequence_insert_at_back" })
        {
            var path = Path.Combine(SharedFolder.NodeTests!, name, "model.onnx");
            if (!File.Exists(path)) continue;
            var original = Sparrow.Graph.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
            var written = Sparrow.Graph.Onnx.Proto.ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(OnnxImporter.Load(path))).Graph;
            Assert.Equal(original.Input.Select(v => v.Type), written.Input.Select(v => v.Type));
            Assert.Equal(original.Output.Select(v => v.Type), written.Output.Select(v => v.Type));
        }
    }

    /// <summary>A model's local functions survive a load and save: a pruned model still defines the operators its nodes call.</summary>
    [Fact]
    public void Local_functions_are_kept()
    {
        var model = SmallCnn.Build(imageSize: 8);
        var function = new Sparrow.Graph.Onnx.Proto.FunctionProto { Name = "MyFn", Domain = "local" };
        function.Input.Add("a");
        function.Output.Add("b");
        function.Node.Add(new Sparrow.Graph.Onnx.Proto.NodeProto { OpType = "Relu", Input = { "a" }, Output = { "b" } });
        var proto = Sparrow.Graph.Onnx.Proto.ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(model));
        proto.Functions.Add(function);
        var loaded = OnnxImporter.Load(Google.Protobuf.MessageExtensions.ToByteArray(proto));
        Assert.Single(loaded.Functions);
        var again = Sparrow.Graph.Onnx.Proto.ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(loaded.Clone()));
        Assert.Equal(function, Assert.Single(again.Functions));
    }

    /// <summary>Every ONNX node-test model that Sparrow can hold: load, save, load keeps it bit for bit.</summary>
    [NodeTestsFact]
    public void Every_onnx_node_test_model_round_trips()
    {
        var checkedCount = 0;
        var rejected = 0;
        foreach (var dir in Directory.GetDirectories(SharedFolder.NodeTests!, "test_*"))
        {
            Model first;
            try
            {
                first = OnnxImporter.Load(Path.Combine(dir, "model.onnx"));
            }
            catch (ModelException e) when (e.Message.Contains("not support", StringComparison.Ordinal))
            {
                rejected++;
                continue;
            }
            var second = OnnxImporter.Load(OnnxExporter.ToBytes(first));
            ModelComparer.AssertSame(first, second);
            var third = OnnxImporter.Load(OnnxExporter.ToBytes(second));
            Assert.Equal(OnnxExporter.ToBytes(second), OnnxExporter.ToBytes(third));
            checkedCount++;
        }
        Assert.True(checkedCount > 1500, $"only {checkedCount} models round-tripped ({rejected} rejected as unsupported)");
    }
}
