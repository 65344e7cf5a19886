namespace Sparrow.Pruning.Tests.Structured;

public sealed class StructuredRecipeTests
{
    [Fact]
    public void Reads_the_structured_part_from_json_and_yaml()
    {
        var json = PruningRecipe.Parse("{ \"seed\": 4,\n \"structured\": { \"heads\": 0.25, \"neurons\": 0.5, \"layers\": 1 } }");
        Assert.Equal(new StructuredRecipe(0.25, 0.5, 1), json.Structured);
        Assert.Equal(2, json.LineOf("structured.heads"));
        var yaml = PruningRecipe.ParseYaml("structured:\n  heads: 0.25\n");
        Assert.Equal(new StructuredRecipe(0.25, 0, 0), yaml.Structured);
        Assert.Null(PruningRecipe.Parse("{ \"sparsity\": 0.5 }").Structured);
    }

    [Theory]
    [InlineData("{ \"structured\": { \"head\": 0.25 } }", "structured.head", "unknown field")]
    [InlineData("{ \"structured\": { \"heads\": \"a lot\" } }", "structured.heads", "expected a number")]
    [InlineData("{ \"structured\": { \"layers\": 1.5 } }", "structured.layers", "integer")]
    [InlineData("{ \"structured\": 0.25 }", "structured", "expected an object")]
    public void Bad_structured_fields_name_the_line_and_field(string text, string field, string message)
    {
        var e = Assert.Throws<PruningRecipeException>(() => PruningRecipe.Parse(text));
        Assert.Equal(field, e.Field);
        Assert.Equal(1, e.Line);
        Assert.Contains(message, e.Message);
    }
}
