using Sparrow.Graph;
using Sparrow.Graph.Onnx;

namespace Sparrow.Pruning.Tests;

public class PruningRecordTests
{
    [Fact]
    public void SurvivesAnOnnxRoundTripAndReplacesAnEarlierRecord()
    {
        var model = Sparrow.Graph.Builders.SmallCnn.Build(seed: 2);
        new PruningRecord("magnitude", "2:4", new Dictionary<string, double?> { ["a"] = 0.5 }).WriteTo(model);
        new PruningRecord("wanda", "unstructured", new Dictionary<string, double?> { ["w1"] = 0.7, ["w2"] = null }).WriteTo(model);
        var back = PruningRecord.ReadFrom(OnnxImporter.Load(OnnxExporter.ToBytes(model)));
        Assert.NotNull(back);
        Assert.Equal("wanda", back.Method);
        Assert.Equal("unstructured", back.Pattern);
        Assert.Equal(0.7, back.Targets["w1"]);
        Assert.Null(back.Targets["w2"]);
        Assert.Single(model.MetadataProps, kv => kv.Key == PruningRecord.Key);
    }

    [Fact]
    public void IsNullWhenAbsentOrNotReadable()
    {
        var model = Sparrow.Graph.Builders.SmallCnn.Build(seed: 2);
        Assert.Null(PruningRecord.ReadFrom(model));
        model.MetadataProps.Add(new(PruningRecord.Key, "{ not json"));
        Assert.Null(PruningRecord.ReadFrom(model));
    }
}
