using System.Text;
using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Tests.Tasks;

public sealed class SpamAssassinTests
{
    [Fact]
    public void A_plain_mail_gives_its_subject_then_its_body_without_headers()
    {
        var mail = "From someone@example.org  Thu Aug 22 12:36:23 2002\nReceived: from a\n\tby b\nSubject: Re: New\n  sequences window\n"
            + "X-Mailer: none\n\nHello   there,\n\nthe window works.\n";
        Assert.Equal("Re: New sequences window. Hello there, the window works.", SpamAssassin.MailText(mail));
    }

    [Fact]
    public void A_folded_line_of_a_repeated_header_is_not_read_as_a_header()
    {
        var mail = "Received: from a\nReceived: from b\n\tSubject: fake\nSubject: Real subject\nTo: x@example.org\n\nBody text.\n";
        Assert.Equal("Real subject. Body text.", SpamAssassin.MailText(mail));
    }

    [Fact]
    public void Quoted_printable_html_is_decoded_and_reduced_to_its_text()
    {
        var mail = "Subject: Save 70%\nContent-Type: text/html; charset=\"iso-8859-1\"\nContent-Transfer-Encoding: quoted-printable\n\n"
            + "<HTML><HEAD><STYLE>p { color: red }</STYLE></HEAD><BODY><!-- hidden -->\n<P align=3Dleft>Save up to 70% on Life Insur=\nance &amp; more.</P>\n"
            + "<CENTER>Caf=E9</CENTER></BODY></HTML>\n";
        Assert.Equal("Save 70%. Save up to 70% on Life Insurance & more. Café", SpamAssassin.MailText(mail));
    }

    [Fact]
    public void Multipart_mails_give_their_plain_text_part_and_base64_is_decoded()
    {
        var body = Convert.ToBase64String(Encoding.UTF8.GetBytes("The plain words."));
        var mail = "Subject: =?utf-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes("Grüße")) + "?=\nContent-Type: multipart/alternative;\n\tboundary=\"XYZ\"\n\n"
            + "This is a preamble.\n--XYZ\nContent-Type: text/html\n\n<p>The html words.</p>\n"
            + "--XYZ\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + body + "\n--XYZ--\nepilogue\n";
        Assert.Equal("Grüße. The plain words.", SpamAssassin.MailText(mail));
        var htmlOnly = "Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: image/gif\n\nGIF89a\n--B\nContent-Type: text/html\n\n<b>Only</b> html\n--B--\n";
        Assert.Equal("Only html", SpamAssassin.MailText(htmlOnly));
    }

    [Fact]
    public void Mails_are_cut_to_the_requested_length_and_empty_ones_give_nothing()
    {
        var mail = "Subject: A\n\n" + string.Concat(Enumerable.Repeat("word ", 100));
        Assert.Equal("A. word word", SpamAssassin.MailText(mail, maxCharacters: 12));
        Assert.Equal("", SpamAssassin.MailText("Subject:\n\n\n"));
        Assert.Equal("", SpamAssassin.MailText(""));
        Assert.Equal("", SpamAssassin.MailText("Content-Type: image/png\n\nPNG"));
    }

    [Fact]
    public void Folder_names_say_the_class()
    {
        Assert.Equal(0, SpamAssassin.LabelOfFolder("easy-ham-1"));
        Assert.Equal(0, SpamAssassin.LabelOfFolder("hard-ham-1"));
        Assert.Equal(1, SpamAssassin.LabelOfFolder("spam-2"));
        Assert.Equal(-1, SpamAssassin.LabelOfFolder("notes"));
    }

    [Fact]
    public void The_sample_holds_ham_and_spam_and_skips_other_folders()
    {
        var data = SpamAssassin.Load(TaskSample.SpamAssassin);
        Assert.Equal(["ham", "spam"], data.ClassNames);
        Assert.Equal([15, 13], data.ClassCounts());
        Assert.DoesNotContain(data.Items, i => i.Text.Contains("neither ham nor spam"));
        Assert.DoesNotContain(data.Items, i => i.Text.Contains("Received:") || i.Text.Contains("Return-Path:"));
        Assert.Contains(data.Items, i => i.Label == 1 && i.Text.StartsWith("URGENT ASSISTANCE(CONFIDENTIAL). Dear sir", StringComparison.Ordinal));
        Assert.All(data.Items, i => Assert.InRange(i.Text.Length, 1, SpamAssassin.DefaultMaxCharacters));
    }

    [Fact]
    public void Missing_or_one_sided_data_names_the_path_and_the_install_script()
    {
        var missing = Path.Combine(Path.GetTempPath(), "sparrow-no-such-folder-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<DatasetNotFoundException>(() => SpamAssassin.Load(missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("scripts/install-datasets.sh", error.Message);
        using var folder = new ScratchFolder();
        folder.Write("easy-ham-1/1.txt", "Subject: hello\n\nhi\n");
        var oneSided = Assert.Throws<DatasetNotFoundException>(() => SpamAssassin.Load(folder.Path));
        Assert.Contains("spam mails", oneSided.Message);
    }
}
