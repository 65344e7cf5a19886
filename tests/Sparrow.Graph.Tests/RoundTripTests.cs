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
