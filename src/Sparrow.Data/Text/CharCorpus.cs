using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Sparrow.Data.Text;

/// <summary>
/// A character-level corpus: the text's distinct characters (ordinal order) are the vocabulary, the text is
/// encoded once, and a deterministic split holds out every <c>heldOutEvery</c>-th block of
/// <c>blockSize</c> characters, so that the held-out part is spread over the whole text (every book of the
/// Bible, not just its last one) and the same text always gives the same split.
/// </summary>
public sealed partial class CharCorpus
{
    private readonly Dictionary<char, int> _ids;

    /// <summary>Encodes <paramref name="text"/> and splits it.</summary>
    public CharCorpus(string text, int heldOutEvery = 10, int blockSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(heldOutEvery, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        if (text.Length == 0) throw new ArgumentException("The text is empty: there is nothing to train on.");
        Vocabulary = text.Distinct().Order().ToArray();
        _ids = Vocabulary.Select((c, i) => (c, i)).ToDictionary(e => e.c, e => e.i);
        var train = new List<int>(text.Length);
        var heldOut = new List<int>(text.Length / heldOutEvery + blockSize);
        for (var start = 0; start < text.Length; start += blockSize)
        {
            var target = (start / blockSize) % heldOutEvery == heldOutEvery - 1 ? heldOut : train;
            var end = Math.Min(text.Length, start + blockSize);
            for (var i = start; i < end; i++) target.Add(_ids[text[i]]);
        }
        Train = train.ToArray();
        HeldOut = heldOut.ToArray();
    }

    /// <summary>The characters, id = index.</summary>
    public IReadOnlyList<char> Vocabulary { get; }

    /// <summary>Ids of the training part, in text order.</summary>
    public int[] Train { get; }

    /// <summary>Ids of the held-out part, in text order (blocks joined).</summary>
    public int[] HeldOut { get; }

    /// <summary>The ids of <paramref name="text"/>; characters outside the vocabulary are an error.</summary>
    public int[] Encode(string text) => text.Select(c => _ids.TryGetValue(c, out var id) ? id
        : throw new ArgumentException($"The character U+{(int)c:X4} is not in the corpus's vocabulary.")).ToArray();

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(IEnumerable<int> ids) => new(ids.Select(i => Vocabulary[i]).ToArray());

    /// <summary>
    /// The King James text as plain verses, one per line, verse references ("Ge1:1 ") removed: read from
    /// <paramref name="path"/> when given (a file written by <c>bible -f</c> or plain text), else printed by the
    /// Debian <c>bible</c> program (package bible-kjv).
    /// </summary>
    public static string LoadKingJames(string? path = null)
    {
        string raw;
        if (path is not null) raw = File.ReadAllText(path);
        else
        {
            var start = new ProcessStartInfo("bible", ["-p", "/usr/lib", "-f", "Gen1:1-Rev22:21"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new FileNotFoundException("Could not start 'bible'.");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new FileNotFoundException("The King James text needs the Debian package bible-kjv (apt-get install bible-kjv), or pass a text file.");
            }
            using (process)
            {
                var errors = process.StandardError.ReadToEndAsync();
                raw = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0 || raw.Length == 0)
                    throw new InvalidDataException($"'bible' failed (exit code {process.ExitCode}): {errors.Result.Trim()}");
            }
        }
        return StripVerseReferences(raw);
    }

    /// <summary>Removes a leading "Book chapter:verse " reference from each line and drops blank lines.</summary>
    public static string StripVerseReferences(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var line in text.Split('\n'))
        {
            var verse = VerseReference().Replace(line.TrimEnd('\r'), "").Trim();
            if (verse.Length == 0) continue;
            builder.Append(verse).Append('\n');
        }
        return builder.ToString();
    }

    [GeneratedRegex(@"^\s*[1-3]?[A-Za-z]+\d+:\d+\s+")]
    private static partial Regex VerseReference();
}
