using System.Text.Json;
using Sparrow.Cli.Commands;
using Sparrow.Serving;
using Spectre.Console.Testing;

namespace Sparrow.Cli.Tests;

/// <summary><c>sparrow serve</c> and <c>sparrow bench serve</c>: embeddings equal <c>sparrow embed</c>'s; bad models and options stop it at start.</summary>
public class ServeTests
{
    [Fact]
    public async Task Serve_answers_with_the_embeddings_of_sparrow_embed_and_stops_cleanly()
    {
        string[] texts = ["A sparrow sings.", "Sparse models are cheap to serve."];
        var embed = CliRunner.Run(["embed", "--json", "--threads", "2", .. texts]);
        Assert.True(embed.ExitCode == 0, embed.ToString());
        using var embedJson = JsonDocument.Parse(embed.Output);
        var expected = embedJson.RootElement.GetProperty("embeddings").EnumerateArray().Select(e => e.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();

        using var console = new TestConsole().Width(250);
        var context = new CommandContext(console, ["serve"]);
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(() => Sparrow.Cli.Commands.ServeCommand.Run(context, null, new ServingOptions { Port = 0 }, 2, "auto", stop.Token));
        string? address = null;
        for (var i = 0; i < 600 && address is null && !serving.IsCompleted; i++)
        {
            await Task.Delay(100);
            var at = console.Output.IndexOf("http://127.0.0.1:", StringComparison.Ordinal);
            if (at >= 0) address = new string(console.Output[at..].TakeWhile(c => !char.IsWhiteSpace(c)).ToArray());
        }
        Assert.True(address is not null, console.Output + (serving.IsFaulted ? serving.Exception!.ToString() : ""));
        using (var client = new HttpClient { BaseAddress = new Uri(address!) })
        {
            using var content = new StringContent(JsonSerializer.Serialize(new { input = texts, model = "all-MiniLM-L6-v2" }), System.Text.Encoding.UTF8, "application/json");
            using var response = await client.PostAsync("v1/embeddings", content);
            Assert.Equal(200, (int)response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var data = json.RootElement.GetProperty("data");
            for (var t = 0; t < texts.Length; t++)
            {
                var got = data[t].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                Assert.Equal(expected[t].Length, got.Length);
                for (var k = 0; k < got.Length; k++) Assert.True(Math.Abs(expected[t][k] - got[k]) <= 1e-5, $"text {t}, element {k}: {expected[t][k]} vs {got[k]}");
            }
        }
        stop.Cancel();
        Assert.Equal(ExitCodes.Success, await serving);
        Assert.Contains("Stopped", console.Output);
    }

    [Fact]
    public void A_model_that_fails_to_load_stops_serve_at_start_with_one_line()
    {
        using var dir = new TempDirectory();
        var model = dir.File("broken.onnx");
        File.WriteAllBytes(model, [8, 1, 2, 3, 0xFF, 0xFF]);
        var r = CliRunner.Run("serve", model, "--port", "0");
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.Contains("failed to load", line);
        Assert.Contains(model, line);

        r = CliRunner.Run("serve", dir.File("missing.onnx"), "--port", "0");
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("not found", Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void Serve_says_when_the_shutdown_timeout_cut_requests_off()
    {
        Assert.Contains("every accepted request was answered", ServeCommand.ShutdownMessage(0));
        var cut = ServeCommand.ShutdownMessage(2);
        Assert.DoesNotContain("every accepted request was answered", cut);
        Assert.Contains("2 requests still running", cut);
    }

    [Theory]
    [InlineData("--max-batch", "0")]
    [InlineData("--max-delay-ms", "-1")]
    [InlineData("--max-delay-ms", "NaN")]
    [InlineData("--max-delay-ms", "1e300")]
    [InlineData("--cache-size", "-1")]
    [InlineData("--port", "70000")]
    [InlineData("--host", "localhost:80")]
    public void A_bad_serve_option_is_bad_usage(string option, string value)
    {
        var r = CliRunner.Run("serve", option, value);
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains(option, Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void Bench_serve_compares_batching_off_and_on()
    {
        var r = CliRunner.Run("bench", "serve", "--clients", "4", "--requests", "8", "--rounds", "1", "--threads", "2", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.Output);
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(new[] { "off", "on" }, rows.Select(x => x.GetProperty("batching").GetString()!).Order().ToArray());
        Assert.All(rows, x => Assert.Equal(8, x.GetProperty("requests").GetInt32()));
        Assert.Equal(1.0, rows.Single(x => x.GetProperty("batching").GetString() == "off").GetProperty("meanBatch").GetDouble());
    }
}
