namespace Sparrow.Graph;

/// <summary>A model that cannot be read, checked or written; the message names the part at fault.</summary>
public class ModelException : Exception
{
    /// <summary>A model is malformed or unsupported; <paramref name="message"/> names the file, node or value at fault.</summary>
    public ModelException(string message) : base(message) { }

    /// <summary>As <see cref="ModelException(string)"/>, keeping the error that caused it.</summary>
    public ModelException(string message, Exception inner) : base(message, inner) { }
}
