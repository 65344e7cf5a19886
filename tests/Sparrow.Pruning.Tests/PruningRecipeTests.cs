namespace Sparrow.Pruning.Tests;

public sealed class PruningRecipeTests
{
    [Fact]
    public void Reads_every_field()
    {
        var recipe = PruningRecipe.Parse("""
            {
              // comments and trailing commas are allowed
              "method": "wanda",
              "pattern": "4x4",
              "sparsity": 0.6,
              "seed": 7,
              "targets": { "opTypes": ["MatMul"], "include": ["^9", "^1"], "exclude": "^999$" },
              "layerSparsity": { "927": 0.25, "a=b": 0.5 },
              "calibration": "data/sentences.txt",
              "allocation": "owl",
            }
            """, "plan.json", "/recipes");
        Assert.Equal("wanda", recipe.Method);
        Assert.Equal("4x4", recipe.Pattern);
        Assert.Equal(0.6, recipe.Sparsity);
        Assert.Equal(7, recipe.Seed);
        Assert.Equal(["MatMul"], recipe.OpTypes);
        Assert.Equal(["^9", "^1"], recipe.Include);
        Assert.Equal(["^999$"], recipe.Exclude);
        Assert.Equal([new("927", 0.25), new("a=b", 0.5)], recipe.LayerSparsity);
        Assert.Equal(Path.GetFullPath("/recipes/data/sentences.txt"), recipe.Calibration);
        Assert.Equal("owl", recipe.Allocation);
        Assert.Equal(10, recipe.LineOf("allocation"));
        Assert.Equal(3, recipe.LineOf("method"));
        Assert.Equal(7, recipe.LineOf("targets.include"));
        Assert.Equal(8, recipe.LineOf("layerSparsity.927"));
        Assert.Null(recipe.LineOf("nothing"));
    }

    [Fact]
    public void An_empty_recipe_has_the_flags_defaults()
    {
        var recipe = PruningRecipe.Parse("{}");
        Assert.Equal("magnitude", recipe.Method);
        Assert.Equal("unstructured", recipe.Pattern);
        Assert.Null(recipe.Sparsity);
        Assert.Equal(0, recipe.Seed);
        Assert.Empty(recipe.Include);
        Assert.Empty(recipe.LayerSparsity);
        Assert.Null(recipe.Calibration);
        Assert.Equal("uniform", recipe.Allocation);
    }

    [Fact]
    public void Load_resolves_the_calibration_path_against_the_recipe_folder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "sparrow-recipe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "plans"));
        try
        {
            var path = Path.Combine(folder, "plans", "plan.json");
            File.WriteAllText(path, """{ "method": "wanda", "calibration": "../sentences.txt" }""");
            Assert.Equal(Path.Combine(folder, "sentences.txt"), PruningRecipe.Load(path).Calibration);
            var absolute = Path.Combine(folder, "elsewhere.txt");
            File.WriteAllText(path, "{ \"calibration\": " + System.Text.Json.JsonSerializer.Serialize(absolute) + " }");
            Assert.Equal(absolute, PruningRecipe.Load(path).Calibration);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("{\n  \"method\": \"wanda\",\n  \"sparsty\": 0.5\n}", 3, "sparsty", "unknown field; the fields are: method, pattern, sparsity, seed, targets, layerSparsity, calibration, structured, allocation.")]
    [InlineData("{\n  \"targets\": {\n    \"ops\": [\"MatMul\"] }\n}", 3, "targets.ops", "unknown field; the fields of targets are: opTypes, include, exclude.")]
    [InlineData("{\n  \"sparsity\": \"half\"\n}", 2, "sparsity", "expected a number, got the string \"half\".")]
    [InlineData("{\n  \"method\": null\n}", 2, "method", "expected a string, got null.")]
    [InlineData("{\n  \"seed\": 1.5\n}", 2, "seed", "expected an integer (32-bit), got 1.5.")]
    [InlineData("{\n  \"targets\": { \"include\": [\"a\", 3] }\n}", 2, "targets.include[1]", "expected a string, got the number 3.")]
    [InlineData("{\n  \"targets\": [\"a\"]\n}", 2, "targets", "expected an object")]
    [InlineData("{\n  \"layerSparsity\": {\n    \"927\": true }\n}", 3, "layerSparsity.927", "expected a number, got a boolean.")]
    [InlineData("{\n  \"sparsity\": 0.5,\n  \"sparsity\": 0.6\n}", 3, "sparsity", "given twice.")]
    [InlineData("{\n  \"calibration\": \"\"\n}", 2, "calibration", "must not be empty.")]
    [InlineData("{\n  \"allocation\": \"\"\n}", 2, "allocation", "must not be empty.")]
    [InlineData("{\n  \"method\": \"wanda\",\n  \"allocation\": 1\n}", 3, "allocation", "expected a string, got the number 1.")]
    public void Bad_fields_are_named_with_their_line(string json, int line, string field, string message)
    {
        var e = Assert.Throws<PruningRecipeException>(() => PruningRecipe.Parse(json, "plan.json"));
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"plan.json: line {line}, field '{field}': ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("{\n  \"sparsity\": 0.5,\n  \"seed\": 1,,\n}", "line 3, column 13: not valid JSON")]
    [InlineData("{\n  \"sparsity\": 0.5", "line 2, column 18: not valid JSON")]
    [InlineData("[1, 2]", "line 1: a recipe is an object of fields")]
    [InlineData("{}\n{}", "line 2, column 1: not valid JSON")]
    [InlineData("", "line 1")]
    public void Bad_json_names_the_line(string json, string message)
    {
        var e = Assert.Throws<PruningRecipeException>(() => PruningRecipe.Parse(json, "plan.json"));
        Assert.Contains("plan.json: " + message, e.Message);
        Assert.NotNull(e.Line);
    }

    [Fact]
    public void Yaml_reads_the_same_recipe_as_json()
    {
        var yaml = PruningRecipe.ParseYaml("""
            # a comment
            method: wanda
            pattern: "4x4"
            sparsity: .6
            seed: 7
            targets:
              opTypes: [MatMul]
              include:
                - ^9
                - '^1'
              exclude: ^999$
            layerSparsity:
              "927": 0.25
              a=b: 0.5
            calibration: data/sentences.txt
            """, "plan.yaml", "/recipes");
        var json = PruningRecipe.Parse("""
            { "method": "wanda", "pattern": "4x4", "sparsity": 0.6, "seed": 7,
              "targets": { "opTypes": ["MatMul"], "include": ["^9", "^1"], "exclude": "^999$" },
              "layerSparsity": { "927": 0.25, "a=b": 0.5 }, "calibration": "data/sentences.txt" }
            """, "plan.json", "/recipes");
        Assert.Equal(json.Method, yaml.Method);
        Assert.Equal(json.Pattern, yaml.Pattern);
        Assert.Equal(json.Sparsity, yaml.Sparsity);
        Assert.Equal(json.Seed, yaml.Seed);
        Assert.Equal(json.OpTypes, yaml.OpTypes);
        Assert.Equal(json.Include, yaml.Include);
        Assert.Equal(json.Exclude, yaml.Exclude);
        Assert.Equal(json.LayerSparsity, yaml.LayerSparsity);
        Assert.Equal(json.Calibration, yaml.Calibration);
        Assert.Equal(2, yaml.LineOf("method"));
        Assert.Equal(9, yaml.LineOf("targets.include")); // the value: the list starts on the next line
        Assert.Equal(13, yaml.LineOf("layerSparsity.927"));
    }

    [Theory]
    [InlineData("method: wanda\nsparsty: 0.5\n", "line 2, field 'sparsty': unknown field")]
    [InlineData("method: wanda\nsparsity: half\n", "line 2, field 'sparsity': expected a number, got the string \"half\"")]
    [InlineData("sparsity: '0.5'\n", "line 1, field 'sparsity': expected a number, got the string \"0.5\"")]
    [InlineData("seed: 1\ntargets:\n  include:\n    - a\n    - 3\n", "line 5, field 'targets.include[1]': expected a string, got the number 3")]
    [InlineData("seed: 1\nseed: 2\n", "line 2, field 'seed': given twice")]
    [InlineData("method: wanda\n  sparsity: [0.5\n", "line 2, column 11: not valid YAML")]
    [InlineData("seed: 1\n---\nseed: 2\n", "line 2: a recipe is one YAML document")]
    public void Bad_yaml_names_the_line(string yaml, string message)
    {
        var e = Assert.Throws<PruningRecipeException>(() => PruningRecipe.ParseYaml(yaml, "plan.yaml"));
        Assert.Contains("plan.yaml: " + message, e.Message);
        Assert.NotNull(e.Line);
    }
}
