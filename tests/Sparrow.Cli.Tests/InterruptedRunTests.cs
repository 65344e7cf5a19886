using System.Diagnostics;
using System.Security.Cryptography;
using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Tests;

/// <summary>
/// <c>sparrow prune</c> and <c>sparrow recover</c> started as child processes and killed with SIGKILL at several
/// moments: the input model is unchanged, the output is absent or complete and loadable, and <c>recover</c> resumed
/// from its checkpoint ends with the weights of an uninterrupted run.
/// </summary>
[Collection(ChildProcesses.Name)]
public sealed class InterruptedRunTests
{
    /// <summary>Starts the CLI built next to the tests (sparrow.dll) as a child process, output discarded.</summary>
    private static Process StartCli(params string[] args)
    {
        var folder = AppContext.BaseDirectory;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        // The test project's runtime config and dependency list cover the CLI it references.
        start.ArgumentList.Add("--runtimeconfig");
        start.ArgumentList.Add(Path.Combine(folder, "Sparrow.Cli.Tests.runtimeconfig.json"));
        start.ArgumentList.Add("--depsfile");
        start.ArgumentList.Add(Path.Combine(folder, "Sparrow.Cli.Tests.deps.json"));
        start.ArgumentList.Add(Path.Combine(folder, "sparrow.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["SPARROW_CACHE_DIR"] = Path.Combine(Path.GetTempPath(), "sparrow-tests-cache");
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs the CLI to the end (at most 10 minutes); returns its exit code.</summary>
    private static int RunCli(params string[] args)
    {
        using var process = StartCli(args);
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) { process.Kill(); throw new TimeoutException(string.Join(' ', args)); }
        return process.ExitCode;
    }

    /// <summary>Sends SIGKILL after <paramref name="delay"/>, or earlier when <paramref name="until"/> holds; true when it was still running.</summary>
    private static bool KillAfter(Process process, TimeSpan delay, Func<bool>? until = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < delay && !process.HasExited && !(until?.Invoke() ?? false)) Thread.Sleep(20);
        var running = !process.HasExited;
        if (running) process.Kill(); // SIGKILL on Unix: no handler runs, nothing is flushed.
        process.WaitForExit();
        return running;
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>The final output is absent or complete: it loads, with every weight of the input.</summary>
    private static void AssertAbsentOrComplete(string output, int expectedInitializers)
    {
        if (!File.Exists(output)) return;
        var model = OnnxImporter.Load(output);
        Assert.Equal(expectedInitializers, model.Graph.Initializers.Count);
    }

    /// <summary>After a run that completed, no temporary file of a killed writer is left in <paramref name="folder"/>
    /// (the next write to the same file removes them; for MiniLM each would be ~90 MB).</summary>
    private static void AssertNoLeftoverTemporaries(string folder)
    {
        var left = Directory.GetFiles(folder, ".*.tmp").Select(Path.GetFileName).ToArray();
        Assert.True(left.Length == 0, "temporary files of killed runs are left: " + string.Join(", ", left));
    }

    [Theory]
    [InlineData("magnitude")]
    [InlineData("wanda")]
    public void Killed_prune_leaves_the_input_intact_and_no_half_written_output(string method)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = new TempDirectory();
        var input = folder.File("model.onnx");
        File.Copy(CliRunner.MiniLmPath, input);
        var before = Hash(input);
        var initializers = OnnxImporter.Load(input).Graph.Initializers.Count;
        var output = folder.File("pruned.onnx");
        string[] args = ["prune", input, "--method", method, "--sparsity", "0.5", "-o", output];

        var kills = 0;
        foreach (var seconds in new[] { 0.5, 2.0, 4.0, 7.0 })
        {
            if (File.Exists(output)) File.Delete(output);
            using var process = StartCli(args);
            if (KillAfter(process, TimeSpan.FromSeconds(seconds))) kills++;
            Assert.Equal(before, Hash(input));
            AssertAbsentOrComplete(output, initializers);
        }
        Assert.True(kills >= 2, $"only {kills} runs were still going when killed");
        // And a run left alone completes.
        Assert.Equal(0, RunCli(args));
        AssertAbsentOrComplete(output, initializers);
        Assert.True(File.Exists(output));
        Assert.Equal(before, Hash(input));
        AssertNoLeftoverTemporaries(folder.Path);
    }

    [Fact]
    public void Killed_recover_resumes_from_its_checkpoint_to_the_uninterrupted_weights()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var folder = new TempDirectory();
        var pruned = folder.File("pruned.onnx");
        var made = CliRunner.Run("prune", "--method", "magnitude", "--sparsity", "0.9", "--include", "^(927|939)$", "-o", pruned);
        Assert.True(made.ExitCode == 0, made.ToString());
        var texts = folder.File("texts.txt");
        File.WriteAllLines(texts, ["The train was late again this morning.", "Cats sleep for most of the day.", "She planted tomatoes along the fence.",
            "We walked to the harbour after dinner.", "Rain is expected over the hills tonight.", "He fixed the bicycle with a borrowed spanner."]);
        string[] Args(string output, string? checkpoint) =>
            ["recover", pruned, "--data", texts, "--steps", "6", "--batch", "2", "--max-tokens", "12", "--lr", "1e-4", "--seed", "3", "--threads", "1",
             "--fidelity-sentences", "0", "-o", output, .. checkpoint is null ? Array.Empty<string>() : ["--checkpoint", checkpoint, "--checkpoint-every", "1"]];
        var inputHash = Hash(pruned);

        var reference = folder.File("reference.onnx");
        Assert.Equal(0, RunCli(Args(reference, null)));

        // Killed at several moments: before the first checkpoint, just after one appears, and later; each time resumed.
        var output = folder.File("resumed.onnx");
        var checkpoint = folder.File("run.ckpt");
        var kills = 0;
        foreach (var extra in new[] { 0.0, 0.5, 2.0 })
        {
            using var process = StartCli(Args(output, checkpoint));
            var seen = DateTime.MaxValue;
            KillAfter(process, TimeSpan.FromMinutes(5), () =>
            {
                if (seen == DateTime.MaxValue && File.Exists(checkpoint) && new FileInfo(checkpoint).LastWriteTimeUtc > DateTime.UtcNow.AddMinutes(-5)) seen = DateTime.UtcNow;
                return DateTime.UtcNow - seen > TimeSpan.FromSeconds(extra);
            });
            if (!File.Exists(output)) kills++;
            Assert.Equal(inputHash, Hash(pruned));
            AssertAbsentOrComplete(output, OnnxImporter.Load(pruned).Graph.Initializers.Count);
            if (File.Exists(output)) break; // it finished before the kill
        }
        Assert.True(kills >= 1, "no run was killed before it finished");
        Assert.True(File.Exists(checkpoint), "no checkpoint was written before the kill");
        var summary = folder.File("resumed.json");
        Assert.Equal(0, RunCli([.. Args(output, checkpoint), "--json", summary]));
        // A recover that ignored the checkpoint would still end with the same weights: check it really resumed.
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(summary)))
        {
            var resumedFrom = json.RootElement.GetProperty("resumedFrom").GetInt64();
            Assert.True(resumedFrom > 0, $"the last run started from step {resumedFrom}, not from the checkpoint");
            Assert.Equal(6 - resumedFrom, json.RootElement.GetProperty("stepsRun").GetInt64());
        }

        var expected = OnnxImporter.Load(reference).Graph.Initializers;
        var actual = OnnxImporter.Load(output).Graph.Initializers;
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, tensor) in expected)
        {
            var same = (tensor, actual[name]) switch
            {
                (Sparrow.Tensors.Tensor<float> a, Sparrow.Tensors.Tensor<float> b) => a.Span.SequenceEqual(b.Span),
                (Sparrow.Tensors.Tensor<long> a, Sparrow.Tensors.Tensor<long> b) => a.Span.SequenceEqual(b.Span),
                var (a, b) => a.ElementType == b.ElementType && a.Shape.SequenceEqual(b.Shape),
            };
            Assert.True(same, $"weight '{name}' differs from the uninterrupted run");
        }
        Assert.Equal(inputHash, Hash(pruned));
        AssertNoLeftoverTemporaries(folder.Path);
    }
}
