using Sparrow.Tensors;

namespace Sparrow.Data.Text;

/// <summary>
/// Token ids of several texts padded to one length, as BERT-family encoders take them: int64 tensors of
/// shape [batch, seq]. Padding positions hold the padding id and a zero attention mask.
/// </summary>
public sealed class TokenBatch : IDisposable
{
    /// <summary>The usual name of the token id input.</summary>
    public const string InputIdsName = "input_ids";
    /// <summary>The usual name of the attention mask input.</summary>
    public const string AttentionMaskName = "attention_mask";
    /// <summary>The usual name of the segment id input.</summary>
    public const string TokenTypeIdsName = "token_type_ids";

    internal TokenBatch(Tensor<long> inputIds, Tensor<long> attentionMask, Tensor<long> tokenTypeIds, int[] lengths)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Lengths = lengths;
    }

    /// <summary>Token ids, int64 [batch, seq], padded with [PAD].</summary>
    public Tensor<long> InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding, int64 [batch, seq].</summary>
    public Tensor<long> AttentionMask { get; }

    /// <summary>All zeros: every text is a single segment.</summary>
    public Tensor<long> TokenTypeIds { get; }

    /// <summary>Tokens per text, [CLS] and [SEP] included, before padding.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>The number of texts.</summary>
    public int BatchSize => InputIds.Shape[0];

    /// <summary>The padded length: the longest text's tokens (or the requested padding).</summary>
    public int SequenceLength => InputIds.Shape[1];

    /// <summary>The three tensors by their usual input names, limited to <paramref name="inputNames"/> when given.</summary>
    public IReadOnlyDictionary<string, Tensor> ToInputs(IEnumerable<string>? inputNames = null)
    {
        var all = new Dictionary<string, Tensor>
        {
            [InputIdsName] = InputIds,
            [AttentionMaskName] = AttentionMask,
            [TokenTypeIdsName] = TokenTypeIds,
        };
        if (inputNames is null) return all;
        var wanted = inputNames.ToHashSet();
        return all.Where(kv => wanted.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>Returns the three tensors' memory to the pool.</summary>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
