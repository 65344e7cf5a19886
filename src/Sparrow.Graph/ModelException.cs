namespace Sparrow.Graph;

/// <summary>A model that cannot be read, checked or written; the message names the part at fault.</summary>
public class ModelException : Exception
{
    public ModelException(string message) : base(message) { }

    public ModelException(string message, Exception inner) : base(message, inner) { }
}
