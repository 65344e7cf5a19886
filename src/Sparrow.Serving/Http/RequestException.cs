namespace Sparrow.Serving.Http;

/// <summary>A request the server refuses: the HTTP status and a message that says what is wrong.</summary>
internal sealed class RequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
