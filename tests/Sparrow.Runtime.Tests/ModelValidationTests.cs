using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>Models that cannot run are refused when the session is built, with the node at fault named.</summary>
public sealed class ModelValidationTests
{
    private static Model Graph(params Node[] nodes)
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(2) }));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.AddRange(nodes);
        return new Model(graph);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Cycle_names_a_node_on_it(bool optimize)
    {
        var model = Graph(
            new Node("Relu", new[] { "b" }, new[] { "a" }, "first"),
            new Node("Relu", new[] { "a" }, new[] { "b" }, "second"),
            new Node("Relu", new[] { "b" }, new[] { "y" }, "last"));
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model, new SessionOptions { OptimizeGraph = optimize }));
        Assert.Contains("cycle", e.Message);
        Assert.Matches("'(first|second|last)'", e.Message);
    }

    [Fact]
    public void Input_that_nothing_produces_is_named()
    {
        var model = Graph(new Node("Add", new[] { "x", "missing_weight" }, new[] { "y" }, "add"));
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model, new SessionOptions { OptimizeGraph = false }));
        Assert.Contains("'missing_weight'", e.Message);
        Assert.Contains("'add'", e.Message);
    }

    [Fact]
    public void Unknown_operator_is_named()
    {
        var model = Graph(new Node("FrobnicateTensor", new[] { "x" }, new[] { "y" }, "weird"));
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("'FrobnicateTensor'", e.Message);
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void Unknown_domain_is_named()
    {
        var model = Graph(new Node("Relu", new[] { "x" }, new[] { "y" }, "custom", domain: "com.example"));
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("com.example", e.Message);
    }

    [Fact]
    public void Value_produced_twice_is_refused()
    {
        var model = Graph(
            new Node("Relu", new[] { "x" }, new[] { "y" }, "one"),
            new Node("Relu", new[] { "x" }, new[] { "y" }, "two"));
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model, new SessionOptions { OptimizeGraph = false }));
        Assert.Contains("more than once", e.Message);
    }

    [Fact]
    public void Output_that_nothing_produces_is_named()
    {
        var model = Graph();
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("'y'", e.Message);
    }
}
