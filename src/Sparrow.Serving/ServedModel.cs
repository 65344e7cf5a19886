using System.Security.Cryptography;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Serving;

/// <summary>
/// A model ready to serve: its Sparrow session, a hash of its ONNX bytes (part of every cache key) and, when it is
/// a BERT-style sentence encoder (token ids in, [batch, seq, dim] float32 token states out), what embedding needs.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private static readonly string[] TokenInputs = [TokenBatch.InputIdsName, TokenBatch.AttentionMaskName, TokenBatch.TokenTypeIdsName];

    private ServedModel(Model model, string name, string hash, SessionOptions options, SentenceTokenizer tokenizer, int maxLength)
    {
        Name = name;
        Hash = hash;
        Session = new InferenceSession(model, options);
        _rowsAreIndependent = new Lazy<bool>(() => Batching.RowIndependenceProbe.Check(Session));
        Tokenizer = tokenizer;
        MaxLength = maxLength;
        var inputNames = Session.InputMetadata.Select(i => i.Name).ToArray();
        if (inputNames.Contains(TokenBatch.InputIdsName) && inputNames.All(TokenInputs.Contains))
        {
            HiddenStateOutput = Session.OutputMetadata.Any(o => o.Name == DefaultModel.HiddenStateOutput)
                ? DefaultModel.HiddenStateOutput
                : Session.OutputMetadata.FirstOrDefault(o => o.ElementType == DataType.Float32 && o.Shape?.Count == 3)?.Name;
            EmbeddingInputs = inputNames;
            if (HiddenStateOutput is not null) EmbeddingSize = ProbeEmbeddingSize();
        }
    }

    /// <summary>Runs the encoder once on [CLS] [SEP]: the width of its token states, and proof that it runs at all.</summary>
    private int ProbeEmbeddingSize()
    {
        using var tokens = Tokenizer.EncodeBatch([""], MaxLength);
        var outputs = Session.Run(tokens.ToInputs(EmbeddingInputs));
        try
        {
            var states = outputs[HiddenStateOutput!];
            if (states.ElementType != DataType.Float32 || states.Rank != 3)
                throw new InvalidDataException($"output '{HiddenStateOutput}' is {DataTypes.Name(states.ElementType)} [{string.Join(", ", states.CopyShape())}], expected float32 [batch, seq, dim]");
            return states.Shape[2];
        }
        finally
        {
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Loads an ONNX model (the embedded all-MiniLM-L6-v2 when <paramref name="path"/> is null) and builds its session.
    /// Any failure becomes an <see cref="InvalidDataException"/> that names the model and says why, so a server never
    /// starts with a model it cannot run.
    /// </summary>
    /// <param name="threads">Threads per operator (0: one per core).</param>
    /// <param name="sparseKernel">Kernel for constant weights, as <see cref="SessionOptions.SparseKernel"/> takes it.</param>
    /// <param name="tokenizer">The tokenizer for embeddings (default: the embedded model's).</param>
    /// <param name="maxLength">Tokens per text at most, [CLS] and [SEP] included.</param>
    public static ServedModel Load(string? path, int threads = 0, string sparseKernel = "auto", SentenceTokenizer? tokenizer = null,
        int maxLength = DefaultModel.MaxSequenceLength)
    {
        var name = path is null ? DefaultModel.Name : Path.GetFileNameWithoutExtension(path);
        try
        {
            Model model;
            string hash;
            if (path is null)
            {
                model = OnnxImporter.Load(DefaultModel.OnnxBytes, sourceName: name);
                hash = HashOf(DefaultModel.OnnxBytes);
            }
            else
            {
                if (Directory.Exists(path)) throw new InvalidDataException("it is a folder; give the path of an .onnx file");
                if (!File.Exists(path)) throw new FileNotFoundException("file not found");
                var bytes = File.ReadAllBytes(path);
                model = OnnxImporter.Load(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), name);
                hash = HashOf(bytes);
            }
            var options = new SessionOptions { IntraOpThreads = threads <= 0 ? Environment.ProcessorCount : threads, SparseKernel = sparseKernel };
            return new ServedModel(model, name, hash, options, tokenizer ?? SentenceTokenizer.Default, maxLength);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path ?? DefaultModel.Name}: the model failed to load: {e.Message.TrimEnd('.')}.", e);
        }
    }

    /// <summary>Serves a model already in memory (tests, apps that build or prune a model in process).</summary>
    /// <param name="name">The name clients see (the <c>model</c> field of responses).</param>
    public static ServedModel FromModel(Model model, string name, int threads = 0, SentenceTokenizer? tokenizer = null, int maxLength = DefaultModel.MaxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(model);
        var options = new SessionOptions { IntraOpThreads = threads <= 0 ? Environment.ProcessorCount : threads };
        return new ServedModel(model, name, HashOf(OnnxExporter.ToBytes(model)), options, tokenizer ?? SentenceTokenizer.Default, maxLength);
    }

    private static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The name clients see: the file name without extension, or the embedded model's name.</summary>
    public string Name { get; }

    /// <summary>SHA-256 of the model's ONNX bytes (lower-case hex); cached results are keyed by it.</summary>
    public string Hash { get; }

    /// <summary>Whether the model can serve embeddings (token ids in, token states out).</summary>
    public bool CanEmbed => EmbeddingSize is not null;

    /// <summary>The width of the model's sentence embeddings; null when it is no sentence encoder.</summary>
    public int? EmbeddingSize { get; }

    /// <summary>The model's inputs.</summary>
    public IReadOnlyList<ValueInfo> Inputs => Session.InputMetadata;

    /// <summary>The model's outputs.</summary>
    public IReadOnlyList<ValueInfo> Outputs => Session.OutputMetadata;

    /// <summary>Tokens per text at most, [CLS] and [SEP] included; longer texts are cut.</summary>
    public int MaxLength { get; }

    internal InferenceSession Session { get; }

    internal SentenceTokenizer Tokenizer { get; }

    internal string[]? EmbeddingInputs { get; }

    internal string? HiddenStateOutput { get; }

    /// <summary>
    /// Whether <c>/v1/infer</c> requests may share a model call: the model treats the rows of its inputs' first
    /// dimension independently (see <see cref="Batching.RowIndependenceProbe"/>). Checked once, when first asked
    /// (a server asks at start).
    /// </summary>
    internal bool RowsAreIndependent => _rowsAreIndependent.Value;

    private readonly Lazy<bool> _rowsAreIndependent;

    /// <summary>Releases the session.</summary>
    public void Dispose() => Session.Dispose();
}
