namespace Sparrow.Cli.Tests;

public sealed class PruneRecipeTests
{
    private static CliRunner.Result Prune(params string[] args) => CliRunner.Run(["prune", .. args]);

    [Fact]
    public void A_full_recipe_writes_the_same_model_as_the_equivalent_flags()
    {
        using var folder = new TempDirectory();
        var recipe = folder.File("plan.json");
        File.WriteAllText(recipe, """
            {
              "method": "magnitude",
              "pattern": "4x4",
              "sparsity": 0.6,
              "seed": 5,
              "targets": { "opTypes": ["MatMul"], "include": ["^(927|939)$", "^95[0-9]$"], "exclude": ["^95"] },
              "layerSparsity": { "939": 0.3 }
            }
            """);
        var fromRecipe = Prune("--recipe", recipe, "-o", folder.File("recipe.onnx"));
        Assert.True(fromRecipe.ExitCode == 0, fromRecipe.ToString());
        var fromFlags = Prune("--method", "magnitude", "--pattern", "4x4", "--sparsity", "0.6", "--seed", "5", "--op-type", "MatMul",
            "--include", "^(927|939)$", "--include", "^95[0-9]$", "--exclude", "^95", "--layer-sparsity", "939=0.3", "-o", folder.File("flags.onnx"));
        Assert.True(fromFlags.ExitCode == 0, fromFlags.ToString());
        Assert.Contains("Pruned 2 weights", fromRecipe.Output);
        Assert.Matches(@"939 +MatMul +\[1536x384\] +589,824 +30\.0 % +30\.0 %", fromRecipe.Output);
        Assert.Equal(File.ReadAllBytes(folder.File("flags.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
        Assert.NotEqual(File.ReadAllBytes(CliRunner.MiniLmPath), File.ReadAllBytes(folder.File("recipe.onnx")));
    }

    [Fact]
    public void A_recipe_can_prune_one_layer_to_100_percent_and_the_model_verifies()
    {
        using var folder = new TempDirectory();
        var recipe = folder.File("plan.json");
        File.WriteAllText(recipe, """
            {
              "method": "magnitude",
              "sparsity": 0.5,
              "targets": { "include": ["^(927|939)$"] },
              "layerSparsity": { "939": 1 }
            }
            """);
        var output = folder.File("pruned.onnx");
        var result = Prune("--recipe", recipe, "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"939 +MatMul +\[1536x384\] +589,824 +100\.0 % +100\.0 %", result.Output);
        var pruned = Sparrow.Graph.Onnx.OnnxImporter.Load(output);
        Assert.All(pruned.Graph.Initializers["939"].As<float>().ToArray(), v => Assert.Equal(0f, v));
        var verify = CliRunner.Run("verify", output, "--batch", "1", "--seq", "8");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public void A_yaml_recipe_writes_the_same_model_as_the_flags()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.File("plan.yaml"), """
            method: global-magnitude   # one threshold over both weights
            sparsity: 0.7
            targets:
              include: ["^(927|939)$"]
            layerSparsity:
              "927": 0.4
            """);
        var fromRecipe = Prune("--recipe", folder.File("plan.yaml"), "-o", folder.File("recipe.onnx"));
        Assert.True(fromRecipe.ExitCode == 0, fromRecipe.ToString());
        var fromFlags = Prune("--method", "global-magnitude", "--sparsity", "0.7", "--include", "^(927|939)$", "--layer-sparsity", "927=0.4", "-o", folder.File("flags.onnx"));
        Assert.True(fromFlags.ExitCode == 0, fromFlags.ToString());
        Assert.Equal(File.ReadAllBytes(folder.File("flags.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));

        File.WriteAllText(folder.File("bad.yml"), "method: magnitude\nsparsity: 0.5\nlayerSparsity:\n  \"939\": 1.5\n");
        var bad = Prune("--recipe", folder.File("bad.yml"), "-o", folder.File("bad.onnx"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("bad.yml: line 4, field 'layerSparsity.939': --layer-sparsity '939=1.5': the sparsity must be between 0 and 1", bad.Error);
    }

    [Fact]
    public void The_random_method_takes_the_recipe_seed()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.File("plan.json"), """{ "method": "random", "sparsity": 0.5, "seed": 3, "targets": { "include": ["^927$"] } }""");
        Assert.Equal(0, Prune("--recipe", folder.File("plan.json"), "-o", folder.File("recipe.onnx")).ExitCode);
        Assert.Equal(0, Prune("--method", "random", "--sparsity", "0.5", "--seed", "3", "--include", "^927$", "-o", folder.File("seed3.onnx")).ExitCode);
        Assert.Equal(0, Prune("--method", "random", "--sparsity", "0.5", "--seed", "4", "--include", "^927$", "-o", folder.File("seed4.onnx")).ExitCode);
        Assert.Equal(File.ReadAllBytes(folder.File("seed3.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
        Assert.NotEqual(File.ReadAllBytes(folder.File("seed4.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
    }

    [Fact]
    public void Wanda_reads_the_calibration_file_relative_to_the_recipe()
    {
        using var folder = new TempDirectory();
        Directory.CreateDirectory(folder.File("plans"));
        File.WriteAllLines(folder.File("sentences.txt"), ["The train was late again this morning.", "Cats sleep for most of the day."]);
        File.WriteAllText(folder.File("plans/plan.json"), """
            { "method": "wanda", "sparsity": 0.5, "targets": { "include": ["^(927|939)$"] }, "calibration": "../sentences.txt" }
            """);
        // The working folder is the test's, not the recipe's: only resolution against the recipe finds the file.
        Assert.False(File.Exists("../sentences.txt"));
        var fromRecipe = Prune("--recipe", folder.File("plans/plan.json"), "-o", folder.File("recipe.onnx"));
        Assert.True(fromRecipe.ExitCode == 0, fromRecipe.ToString());
        var fromFlags = Prune("--method", "wanda", "--sparsity", "0.5", "--include", "^(927|939)$", "--calibration", folder.File("sentences.txt"), "-o", folder.File("flags.onnx"));
        Assert.True(fromFlags.ExitCode == 0, fromFlags.ToString());
        Assert.Equal(File.ReadAllBytes(folder.File("flags.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
        // The built-in sentences give other masks, so the file was read.
        Assert.Equal(0, Prune("--method", "wanda", "--sparsity", "0.5", "--include", "^(927|939)$", "-o", folder.File("builtin.onnx")).ExitCode);
        Assert.NotEqual(File.ReadAllBytes(folder.File("builtin.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
    }

    [Theory]
    // The file's shape: unknown fields, wrong types, broken JSON.
    [InlineData("{\n  \"method\": \"wanda\",\n  \"sparsty\": 0.5\n}", "line 3, field 'sparsty': unknown field; the fields are: method, pattern")]
    [InlineData("{\n  \"targets\": {\n    \"include\": [\"^9\"], \"ops\": [] }\n}", "line 3, field 'targets.ops': unknown field; the fields of targets are: opTypes, include, exclude")]
    [InlineData("{\n  \"sparsity\": \"0.5\"\n}", "line 2, field 'sparsity': expected a number, got the string \"0.5\"")]
    [InlineData("{\n  \"seed\": 2.5\n}", "line 2, field 'seed': expected an integer")]
    [InlineData("{\n  \"targets\": { \"opTypes\": [1] }\n}", "line 2, field 'targets.opTypes[0]': expected a string, got the number 1")]
    [InlineData("{\n  \"sparsity\": 0.5\n  \"seed\": 1\n}", "line 3, column 3: not valid JSON")]
    // The values: the flags' checks, pointed at the recipe's line.
    [InlineData("{\n  \"method\": \"obd\"\n}", "line 2, field 'method': --method 'obd' is not available")]
    [InlineData("{\n  \"pattern\": \"dense\"\n}", "line 2, field 'pattern': --pattern: Pattern 'dense' is not known")]
    [InlineData("{\n  \"sparsity\": 1.5\n}", "line 2, field 'sparsity': --sparsity must be between 0 and 1")]
    [InlineData("{\n  \"pattern\": \"2:4\",\n  \"sparsity\": 0.7\n}", "line 3, field 'sparsity': --sparsity 0.7 contradicts --pattern 2:4")]
    [InlineData("{\n  \"targets\": {\n    \"include\": [\"(\"] }\n}", "line 3, field 'targets.include': --include '(' is not a valid regular expression")]
    [InlineData("{\n  \"targets\": {\n    \"opTypes\": [\"Relu\"] }\n}", "line 3, field 'targets.opTypes': --op-type 'Relu' is not an operator Sparrow prunes")]
    [InlineData("{\n  \"layerSparsity\": {\n    \"927\": 0.5,\n    \"939\": 1.5 }\n}", "line 4, field 'layerSparsity.939': --layer-sparsity '939=1.5': the sparsity must be between 0 and 1")]
    [InlineData("{\n  \"calibration\": \"x.txt\"\n}", "line 2, field 'calibration': --calibration is read by wanda and sparsegpt only")]
    [InlineData("{\n  \"method\": \"wanda\",\n  \"calibration\": \"missing.txt\"\n}", "line 3, field 'calibration': --calibration ")]
    [InlineData("{\n  \"method\": \"wanda\",\n  \"allocation\": \"greedy\"\n}", "line 3, field 'allocation': --allocation 'greedy' is not available; use uniform or owl")]
    [InlineData("{\n  \"sparsity\": 0.7,\n  \"allocation\": \"owl\"\n}", "line 3, field 'allocation': --allocation owl reads Wanda scores from calibration data: use --method wanda or sparsegpt, not magnitude")]
    public void Bad_recipes_name_the_line_and_the_field(string json, string message)
    {
        using var folder = new TempDirectory();
        var recipe = folder.File("plan.json");
        File.WriteAllText(recipe, json);
        var result = Prune("--recipe", recipe, "-o", folder.File("out.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("plan.json: " + message, result.Error);
        Assert.Single(result.ErrorLines);
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [Fact]
    public void Flags_next_to_a_recipe_are_an_error()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.File("plan.json"), """{ "sparsity": 0.5 }""");
        var result = Prune("--recipe", folder.File("plan.json"), "--sparsity", "0.3", "-o", folder.File("out.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--sparsity cannot be combined with --recipe", result.Error);
        // A flag given with its default value counts too.
        result = Prune("--recipe", folder.File("plan.json"), "--method", "magnitude", "-o", folder.File("out.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--method cannot be combined with --recipe", result.Error);
    }

    [Fact]
    public void A_missing_recipe_is_named()
    {
        using var folder = new TempDirectory();
        var result = Prune("--recipe", folder.File("nope.json"), "-o", folder.File("out.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nope.json: no such file", result.Error);
    }

    [Fact]
    public void An_owl_recipe_writes_the_same_model_as_the_allocation_flag()
    {
        using var folder = new TempDirectory();
        var recipe = folder.File("owl.json");
        File.WriteAllText(recipe, """
            { "method": "wanda", "sparsity": 0.7, "allocation": "owl" }
            """);
        var fromRecipe = Prune("--recipe", recipe, "-o", folder.File("recipe.onnx"));
        Assert.True(fromRecipe.ExitCode == 0, fromRecipe.ToString());
        var fromFlags = Prune("--method", "wanda", "--sparsity", "0.7", "--allocation", "owl", "-o", folder.File("flags.onnx"));
        Assert.True(fromFlags.ExitCode == 0, fromFlags.ToString());
        Assert.Equal(File.ReadAllBytes(folder.File("flags.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
        // Not the uniform plan: OWL gives the layers different sparsities.
        var uniform = Prune("--method", "wanda", "--sparsity", "0.7", "-o", folder.File("uniform.onnx"));
        Assert.True(uniform.ExitCode == 0, uniform.ToString());
        Assert.NotEqual(File.ReadAllBytes(folder.File("uniform.onnx")), File.ReadAllBytes(folder.File("recipe.onnx")));
    }
}
