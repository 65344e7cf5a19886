using Sparrow.Graph.Onnx;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Cli.Tests;

public sealed class PruneTests
{
    [Fact]
    public void Prune_writes_a_sparse_model_that_verify_passes()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "minilm-50.onnx");
        var result = CliRunner.Run("prune", "--method", "magnitude", "--sparsity", "0.5", "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Pruned 36 weights", result.Output);
        Assert.Equal(new[] { "minilm-50.onnx" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));

        var pruned = OnnxImporter.Load(output);
        var weight = pruned.Graph.Nodes.First(n => n.OpType == "MatMul" && pruned.Graph.Initializers.ContainsKey(n.Inputs[1])).Inputs[1];
        var values = pruned.Graph.Initializers[weight].As<float>().ToArray();
        Assert.InRange(values.Count(v => v == 0) / (double)values.Length, 0.499, 0.501);

        var verify = CliRunner.Run("verify", output, "--batch", "1", "--seq", "8");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public void Sparsity_1_zeroes_every_target_of_a_small_cnn_and_the_model_still_runs_and_verifies()
    {
        using var folder = new TempDirectory();
        var input = Path.Combine(folder.Path, "cnn.onnx");
        OnnxExporter.Save(Sparrow.Graph.Builders.SmallCnn.Build(seed: 3), input);
        var output = Path.Combine(folder.Path, "cnn-100.onnx");
        var result = CliRunner.Run("prune", input, "--method", "magnitude", "--sparsity", "1", "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        var original = OnnxImporter.Load(input);
        var pruned = OnnxImporter.Load(output);
        var weights = pruned.Graph.Nodes.Where(n => n.OpType is "MatMul" or "Gemm" or "Conv" && n.Inputs.Count > 1 && pruned.Graph.Initializers.ContainsKey(n.Inputs[1]))
            .Select(n => n.Inputs[1]).ToArray();
        // Every weight the pruner targeted (by default all but the classifier) is entirely zero; the rest are untouched.
        var targeted = weights.Where(w => !pruned.Graph.Initializers[w].As<float>().ToArray().SequenceEqual(original.Graph.Initializers[w].As<float>().ToArray())).ToArray();
        Assert.NotEmpty(targeted);
        Assert.Contains($"Pruned {targeted.Length} weights", result.Output);
        Assert.All(targeted, t => Assert.All(pruned.Graph.Initializers[t].As<float>().ToArray(), v => Assert.Equal(0f, v)));
        var verify = CliRunner.Run("verify", output, "--batch", "2", "--threads", "1");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Theory]
    [InlineData("wanda")]
    [InlineData("sparsegpt")]
    public void Calibrated_methods_prune_with_the_given_sentences(string method)
    {
        using var folder = new TempDirectory();
        var sentences = Path.Combine(folder.Path, "calibration.txt");
        File.WriteAllLines(sentences, ["# a comment", "The train was late again this morning.", "", "Cats sleep for most of the day."]);
        var output = Path.Combine(folder.Path, "pruned.onnx");
        // One weight of each shape keeps the test short; the whole model is pruned the same way.
        var result = CliRunner.Run("prune", "--method", method, "--sparsity", "0.5", "--calibration", sentences, "--include", "^(927|939)$", "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Pruned 2 weights", result.Output);
        var pruned = OnnxImporter.Load(output);
        foreach (var name in new[] { "927", "939" })
        {
            var values = pruned.Graph.Initializers[name].As<float>().ToArray();
            Assert.Equal(values.Length / 2, values.Count(v => v == 0));
        }
    }

    [Fact]
    public void Owl_allocation_spreads_the_sparsity_over_the_layers_and_keeps_the_total()
    {
        using var folder = new TempDirectory();
        var sentences = folder.File("calibration.txt");
        File.WriteAllLines(sentences, ["The train was late again this morning.", "Cats sleep for most of the day.", "Prices rose by three percent last year."]);
        var output = folder.File("owl.onnx");
        var json = folder.File("owl.json");
        var result = CliRunner.Run("prune", "--method", "wanda", "--sparsity", "0.7", "--allocation", "owl", "--owl-lambda", "0.1",
            "--calibration", sentences, "-o", output, "--json", json);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("owl", document.RootElement.GetProperty("allocation").GetString());
        var targets = document.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("targetSparsity").GetDouble()).ToArray();
        var parameters = document.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("parameters").GetDouble()).ToArray();
        Assert.Equal(36, targets.Length);
        Assert.All(targets, t => Assert.InRange(t, 0.6 - 1e-3, 0.8 + 1e-3));
        Assert.True(targets.Max() - targets.Min() > 0.05, $"targets {string.Join(", ", targets)}");
        // The planned sparsities average exactly to the target (to a weight), weighted by parameters.
        Assert.Equal(0.7, targets.Zip(parameters, (t, p) => t * p).Sum() / parameters.Sum(), 6);
        // Every weight of a transformer layer shares its layer's sparsity (6 layers of 6 weights, in order).
        for (var layer = 0; layer < 6; layer++)
        {
            var own = targets.Skip(6 * layer).Take(6).ToArray();
            Assert.True(own.Max() - own.Min() < 1e-4, $"layer {layer}: {string.Join(", ", own)}");
        }
    }

    [Fact]
    public void Inspect_shows_each_pruned_weights_target_next_to_what_it_holds()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "pruned.onnx");
        var prune = CliRunner.Run("prune", "--method", "random", "--sparsity", "0.3", "--layer-sparsity", "939=0.6", "--include", "^(927|939)$", "-o", output);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        var inspect = CliRunner.Run("inspect", output, "--batch", "1", "--seq", "8");
        Assert.True(inspect.ExitCode == 0, inspect.ToString());
        Assert.Contains("pruning: random", inspect.Output);
        Assert.Matches(@"927\s+30\.0 %\s+30\.0 %", inspect.Output);
        Assert.Matches(@"939\s+60\.0 %\s+60\.0 %", inspect.Output);
        // The embedded model was never pruned: no such table.
        Assert.DoesNotContain("pruning:", CliRunner.Run("inspect", "--batch", "1", "--seq", "8").Output);
    }

    [Fact]
    public void Prune_never_overwrites_its_input()
    {
        using var folder = new TempDirectory();
        var input = Path.Combine(folder.Path, "model.onnx");
        File.Copy(CliRunner.MiniLmPath, input);
        var before = File.GetLastWriteTimeUtc(input);
        var result = CliRunner.Run("prune", input, "-o", input);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("never overwrites its input", result.Error);
        Assert.Equal(before, File.GetLastWriteTimeUtc(input));
    }

    [Theory]
    [InlineData("--sparsity must be between 0 and 1", "--sparsity", "1.5")]
    [InlineData("--sparsity must be between 0 and 1", "--sparsity", "-0.1")]
    [InlineData("--method 'obd' is not available", "--method", "obd")]
    [InlineData("--calibration is read by wanda and sparsegpt only", "--calibration", "x.txt")]
    [InlineData("--calibration no-such-file.txt: no such file", "--method", "wanda", "--calibration", "no-such-file.txt")]
    [InlineData("--pattern: Pattern 'dense' is not known; use unstructured, N:M", "--pattern", "dense")]
    [InlineData("--pattern: Pattern '4:2': N:M needs 1 <= N < M", "--pattern", "4:2")]
    [InlineData("--sparsity 0.7 contradicts --pattern 2:4, which prunes exactly 0.5", "--pattern", "2:4", "--sparsity", "0.7")]
    [InlineData("--method global-magnitude cannot apply to --pattern 2:4", "--pattern", "2:4", "--method", "global-magnitude")]
    [InlineData("--include '(' is not a valid regular expression", "--include", "(")]
    [InlineData("has no weights to prune", "--include", "no-such-weight")]
    [InlineData("has no weights to prune", "--op-type", "Conv")]
    [InlineData("--op-type 'Relu' is not an operator Sparrow prunes", "--op-type", "Relu")]
    [InlineData("--allocation owl reads Wanda scores from calibration data", "--allocation", "owl")]
    [InlineData("--allocation 'sensitive' is not available", "--method", "wanda", "--allocation", "sensitive")]
    [InlineData("--allocation owl sets a sparsity per layer; --pattern 2:4", "--method", "wanda", "--allocation", "owl", "--pattern", "2:4")]
    [InlineData("--owl-lambda must be at least 0 and below 1", "--method", "wanda", "--allocation", "owl", "--owl-lambda", "1")]
    [InlineData("--owl-m must be above 0", "--method", "sparsegpt", "--allocation", "owl", "--owl-m", "0")]
    [InlineData("--owl-group 'head' is not available", "--method", "wanda", "--allocation", "owl", "--owl-group", "head")]
    [InlineData("--owl-lambda only applies with --allocation owl", "--method", "wanda", "--owl-lambda", "0.1")]
    [InlineData("--allocation 'owls' is not available", "--method", "wanda", "--allocation", "owls", "--owl-m", "3")]
    [InlineData("--owl-group only applies with --allocation owl", "--method", "wanda", "--allocation", "uniform", "--owl-group", "weight")]
    [InlineData("--layer-sparsity cannot be combined with --allocation owl", "--method", "wanda", "--allocation", "owl", "--layer-sparsity", "927=0.5")]
    [InlineData("--allocation owl spreads --sparsity over the layers and needs it below 1; got 1", "--method", "wanda", "--allocation", "owl", "--sparsity", "1")]
    [InlineData("--layer-sparsity '927': expected WEIGHT=SPARSITY", "--layer-sparsity", "927")]
    [InlineData("--layer-sparsity '927=1.5': the sparsity must be between 0 and 1", "--layer-sparsity", "927=1.5")]
    [InlineData("The sparsity override for 'nope' names no pruned weight", "--layer-sparsity", "nope=0.5")]
    [InlineData("5x4 needs every target's output dimension to be divisible by 5; '927' has 384", "--pattern", "5x4", "--sparsity", "0.5")]
    [InlineData("5:7 needs every target's input dimension to be divisible by 7; '939' has 1536", "--pattern", "5:7", "--include", "^939$")]
    public void Bad_options_are_named(string message, params string[] options)
    {
        using var folder = new TempDirectory();
        var result = CliRunner.Run(["prune", .. options, "-o", Path.Combine(folder.Path, "out.onnx")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Single(result.ErrorLines);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Pattern_2_4_writes_a_model_every_pruned_weight_of_which_the_NM_2_4_kernel_accepts()
    {
        using var folder = new TempDirectory();
        var output = folder.File("minilm-2-4.onnx");
        var result = CliRunner.Run("prune", "--pattern", "2:4", "--exclude", "^9[0-9]{2}$", "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("magnitude pruning, 2:4", result.Output);
        Assert.Contains("target", result.Output);
        Assert.Contains("achieved", result.Output);

        var original = OnnxImporter.Load(CliRunner.MiniLmPath);
        var pruned = OnnxImporter.Load(output);
        var entry = SparseKernelTable.Find("NM 2:4");
        var checkedWeights = 0;
        foreach (var node in pruned.Graph.Nodes.Where(n => n.OpType == "MatMul"))
        {
            if (!pruned.Graph.Initializers.TryGetValue(node.Inputs[1], out var tensor)) continue;
            var values = tensor.As<float>().ToArray();
            if (values.SequenceEqual(original.Graph.Initializers[node.Inputs[1]].As<float>().ToArray())) continue; // left dense
            int k = tensor.Shape[0], n = tensor.Shape[1];
            var outByIn = new float[values.Length];
            for (var r = 0; r < k; r++)
                for (var c = 0; c < n; c++) outByIn[c * k + r] = values[r * n + c];
            Assert.True(entry.TryCreate(outByIn, n, k, null) is not null, $"{node.Inputs[1]} is not 2:4 along its inputs");
            Assert.Equal(0.5, values.Count(v => v == 0) / (double)values.Length);
            checkedWeights++;
        }
        var reported = int.Parse(System.Text.RegularExpressions.Regex.Match(result.Output, "Pruned ([0-9]+) weights").Groups[1].Value);
        Assert.Equal(reported, checkedWeights);
        Assert.Equal(3, checkedWeights); // 1002, 1003, 1004: the last layer's; --exclude kept the others dense
    }

    [Fact]
    public void Random_and_block_patterns_report_target_and_achieved_and_random_is_seeded()
    {
        using var folder = new TempDirectory();
        string Run(params string[] args)
        {
            var r = CliRunner.Run(["prune", .. args]);
            Assert.True(r.ExitCode == 0, r.ToString());
            return r.Output;
        }
        var blocks = Run("--pattern", "4x4", "--sparsity", "0.7", "-o", folder.File("blocks.onnx"));
        Assert.Contains("70.0 %", blocks);
        Run("--method", "random", "--seed", "3", "--sparsity", "0.5", "-o", folder.File("a.onnx"));
        Run("--method", "random", "--seed", "3", "--sparsity", "0.5", "-o", folder.File("b.onnx"));
        Run("--method", "random", "--seed", "4", "--sparsity", "0.5", "-o", folder.File("c.onnx"));
        Assert.Equal(File.ReadAllBytes(folder.File("a.onnx")), File.ReadAllBytes(folder.File("b.onnx")));
        Assert.NotEqual(File.ReadAllBytes(folder.File("a.onnx")), File.ReadAllBytes(folder.File("c.onnx")));
        var global = Run("--method", "global-magnitude", "--sparsity", "0.5", "-o", folder.File("g.onnx"));
        Assert.Contains("global", global);
        var overridden = Run("--sparsity", "0.5", "--layer-sparsity", "927=0.25", "--include", "^92", "-o", folder.File("o.onnx"));
        Assert.Matches(@"927 +MatMul +\[384x384\] +147,456 +25\.0 % +25\.0 %", overridden);
        Assert.Matches(@"928 +MatMul +\[384x384\] +147,456 +50\.0 % +50\.0 %", overridden);
        Assert.Contains("Pruned 2 weights", overridden);
    }

    [Fact]
    public void Output_is_required()
    {
        var result = CliRunner.Run("prune", "--sparsity", "0.5");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--output", result.Error);
    }
}
