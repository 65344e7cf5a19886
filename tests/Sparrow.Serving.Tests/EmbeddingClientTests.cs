using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Embeddings;
using Sparrow.Data.Models;

namespace Sparrow.Serving.Tests;

/// <summary>
/// The server speaks the OpenAI embeddings API: the official OpenAI .NET client and Microsoft.Extensions.AI's OpenAI
/// generator, pointed at it, get the embeddings <c>sparrow embed</c> computes (to 1e-5); so does the in-process generator.
/// </summary>
public sealed class EmbeddingClientTests : IAsyncLifetime
{
    private static readonly string[] Texts = ["A sparrow sings.", "Sparse models save energy.", "The cat sat on the mat today."];
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private EmbeddingClient OpenAiClient() =>
        new(DefaultModel.Name, new ApiKeyCredential("not-needed"), new OpenAIClientOptions { Endpoint = new Uri(_server.Server.Address, "v1") });

    [Fact]
    public async Task The_OpenAI_client_gets_the_embeddings_of_sparrow_embed()
    {
        var expected = Models.Embed(Texts);
        OpenAIEmbeddingCollection result = await OpenAiClient().GenerateEmbeddingsAsync(Texts);
        Assert.Equal(Texts.Length, result.Count);
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(i, result[i].Index);
            Models.AssertClose(expected[i], result[i].ToFloats().Span);
        }
        Assert.True(result.Usage.InputTokenCount > Texts.Length);
        Assert.Equal(DefaultModel.Name, result.Model);

        OpenAIEmbedding single = await OpenAiClient().GenerateEmbeddingAsync(Texts[1]);
        Models.AssertClose(expected[1], single.ToFloats().Span);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_through_OpenAI_gets_the_same_embeddings()
    {
        var expected = Models.Embed(Texts);
        IEmbeddingGenerator<string, Embedding<float>> generator = OpenAiClient().AsIEmbeddingGenerator();
        var result = await generator.GenerateAsync(Texts);
        Assert.Equal(Texts.Length, result.Count);
        for (var i = 0; i < Texts.Length; i++) Models.AssertClose(expected[i], result[i].Vector.Span);
    }

    [Fact]
    public async Task The_in_process_generator_gets_the_same_embeddings_with_no_server()
    {
        var expected = Models.Embed(Texts);
        using var generator = new SparrowEmbeddingGenerator(Models.MiniLm, maxBatch: 8, maxDelay: TimeSpan.FromMilliseconds(2));
        IEmbeddingGenerator<string, Embedding<float>> asInterface = generator;
        var result = await asInterface.GenerateAsync(Texts);
        for (var i = 0; i < Texts.Length; i++)
        {
            Models.AssertClose(expected[i], result[i].Vector.Span);
            Assert.Equal(DefaultModel.Name, result[i].ModelId);
        }
        Assert.True(result.Usage!.InputTokenCount > Texts.Length);
        var metadata = asInterface.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal(DefaultModel.EmbeddingSize, metadata!.DefaultModelDimensions);

        // Concurrent callers share batches and still get their own rows.
        var many = Enumerable.Range(0, 12).Select(i => $"sentence number {i}").ToArray();
        var reference = Models.Embed(many);
        var results = await Task.WhenAll(many.Select(t => Task.Run(() => asInterface.GenerateVectorAsync(t))));
        for (var i = 0; i < many.Length; i++) Models.AssertClose(reference[i], results[i].Span);
    }

    [Fact]
    public async Task A_plain_string_input_and_float_or_base64_formats_are_accepted()
    {
        var expected = Models.Embed(Texts[0]);
        var (status, body) = await Models.PostAsync(_server.Client, "v1/embeddings", $"{{\"input\": \"{Texts[0]}\", \"model\": \"x\", \"encoding_format\": \"float\"}}");
        Assert.Equal(200, status);
        Models.AssertClose(expected[0], Models.EmbeddingsOf(body)[0]);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
        Assert.True(json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 2);

        (status, body) = await Models.PostAsync(_server.Client, "v1/embeddings", $"{{\"input\": [\"{Texts[0]}\"], \"encoding_format\": \"base64\"}}");
        Assert.Equal(200, status);
        using var base64 = System.Text.Json.JsonDocument.Parse(body);
        var bytes = Convert.FromBase64String(base64.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        Models.AssertClose(expected[0], System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes));
    }
}
