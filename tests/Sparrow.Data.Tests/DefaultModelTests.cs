using Sparrow.Data.Models;
using Sparrow.Graph.Onnx;

namespace Sparrow.Data.Tests;

public class DefaultModelTests
{
    [Fact]
    public void Onnx_bytes_are_the_minilm_model()
    {
        var bytes = DefaultModel.OnnxBytes;
        Assert.True(bytes.Length > 80_000_000, $"only {bytes.Length} bytes");
        // A ModelProto starts with field 1 (ir_version) as a varint: tag byte 0x08.
        Assert.Equal(0x08, bytes[0]);
        var model = OnnxImporter.Load(bytes, sourceName: DefaultModel.Name);
        Assert.Equal(13, model.Opset);
        Assert.Equal(650, model.Graph.Nodes.Count);
        Assert.Equal(new[] { "input_ids", "attention_mask", "token_type_ids" }, model.Graph.RequiredInputs.Select(i => i.Name));
        Assert.Contains(model.Graph.Outputs, o => o.Name == DefaultModel.HiddenStateOutput);
        Assert.Equal(new[] { 30522, DefaultModel.EmbeddingSize }, model.Graph.Initializers["embeddings.word_embeddings.weight"].Shape.ToArray());
        Assert.Equal(DefaultModel.MaxPositions, model.Graph.Initializers["embeddings.position_embeddings.weight"].Shape[0]);
    }

    [Fact]
    public void Read_onnx_returns_a_copy_of_the_same_bytes()
    {
        var copy = DefaultModel.ReadOnnx();
        Assert.True(DefaultModel.OnnxBytes.SequenceEqual(copy));
        copy[0] ^= 0xFF;
        Assert.Equal(0x08, DefaultModel.OnnxBytes[0]);
    }

    [Fact]
    public void Vocab_is_the_bert_uncased_wordpiece_vocab()
    {
        var vocab = DefaultModel.ReadVocab();
        Assert.Equal(30522, vocab.Count);
        Assert.Equal("[PAD]", vocab[0]);
        Assert.Equal("[UNK]", vocab[100]);
        Assert.Equal("[CLS]", vocab[101]);
        Assert.Equal("[SEP]", vocab[102]);
        Assert.Equal("[MASK]", vocab[103]);
        Assert.Contains("##ing", vocab);
        Assert.DoesNotContain("Hello", vocab);
        using var stream = DefaultModel.OpenVocab();
        Assert.Equal(DefaultModel.VocabBytes.Length, stream.Length);
    }
}
