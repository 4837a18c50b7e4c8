using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Klp.Build.Tests.Support;

/// <summary>
/// clangd driven as an editor drives it: JSON-RPC over stdio with Content-Length framing (the Language Server
/// Protocol), so a test sees what VS Code or CLion would show.
/// </summary>
public sealed class ClangdSession : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(3);

    private readonly Process _process;
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly StringBuilder _log = new();
    private readonly List<JsonObject> _notifications = [];
    private int _nextId;

    public ClangdSession(string compileCommandsDirectory)
    {
        var start = new ProcessStartInfo("clangd")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { $"--compile-commands-dir={compileCommandsDirectory}", "--background-index=false", "--log=error" })
            start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start clangd");
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _input = _process.StandardInput.BaseStream;
        _output = _process.StandardOutput.BaseStream;

        Request("initialize", new JsonObject
        {
            ["processId"] = Environment.ProcessId,
            ["rootUri"] = FileUri(compileCommandsDirectory),
            ["capabilities"] = new JsonObject(),
        });
        Notify("initialized", new JsonObject());
    }

    /// <summary>What clangd wrote to stderr, for assertion messages.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static string FileUri(string path) => new Uri(path).AbsoluteUri;

    public void Open(string path) =>
        Notify("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject
            {
                ["uri"] = FileUri(path), ["languageId"] = "c", ["version"] = 1, ["text"] = File.ReadAllText(path),
            },
        });

    /// <summary>The diagnostics clangd publishes for the file once it has parsed it.</summary>
    public JsonArray Diagnostics(string path)
    {
        var uri = FileUri(path);
        var published = WaitFor(m => m["method"]?.GetValue<string>() == "textDocument/publishDiagnostics"
                                     && m["params"]?["uri"]?.GetValue<string>() == uri);
        return published["params"]!["diagnostics"]!.AsArray();
    }

    /// <summary>Go to definition (F12) at a zero-based line and character: the locations clangd answers.</summary>
    public JsonArray Definition(string path, int line, int character)
    {
        var result = Request("textDocument/definition", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = FileUri(path) },
            ["position"] = new JsonObject { ["line"] = line, ["character"] = character },
        });
        return result as JsonArray ?? (result is null ? [] : [result.DeepClone()]);
    }

    private JsonNode? Request(string method, JsonObject parameters)
    {
        var id = ++_nextId;
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters });
        var reply = WaitFor(m => m["id"] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.GetValue<int>() == id
                                 && m["method"] is null);
        if (reply["error"] is { } error) throw new InvalidOperationException($"clangd {method}: {error.ToJsonString()}\n{Log}");
        return reply["result"];
    }

    private void Notify(string method, JsonObject parameters) =>
        Send(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = parameters });

    private void Send(JsonObject message)
    {
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        _input.Write(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"));
        _input.Write(body);
        _input.Flush();
    }

    private JsonObject WaitFor(Func<JsonObject, bool> wanted)
    {
        var earlier = _notifications.FirstOrDefault(wanted);
        if (earlier is not null)
        {
            _notifications.Remove(earlier);
            return earlier;
        }
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var read = Task.Run(Receive);
            if (!read.Wait(ReplyTimeout - deadline.Elapsed > TimeSpan.Zero ? ReplyTimeout - deadline.Elapsed : TimeSpan.Zero))
                throw new TimeoutException($"clangd did not answer within {ReplyTimeout}\n{Log}");
            var message = read.Result ?? throw new InvalidOperationException($"clangd exited\n{Log}");
            if (wanted(message)) return message;
            if (message["id"] is not null && message["method"] is not null)
                Reply(message["id"]!.DeepClone());
            else
                _notifications.Add(message);
        }
    }

    /// <summary>clangd's own requests (window/workDoneProgress/create) get an empty answer.</summary>
    private void Reply(JsonNode id) => Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = null });

    private JsonObject? Receive()
    {
        var length = -1;
        while (true)
        {
            var header = ReadHeaderLine();
            if (header is null) return null;
            if (header.Length == 0) break;
            if (header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                length = int.Parse(header["Content-Length:".Length..].Trim());
        }
        var body = new byte[length];
        _output.ReadExactly(body);
        return JsonNode.Parse(body)!.AsObject();
    }

    private string? ReadHeaderLine()
    {
        var line = new StringBuilder();
        while (true)
        {
            var b = _output.ReadByte();
            if (b < 0) return null;
            if (b == '\n') return line.ToString().TrimEnd('\r');
            line.Append((char)b);
        }
    }

    public void Dispose()
    {
        try
        {
            Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = ++_nextId, ["method"] = "shutdown" });
            Notify("exit", new JsonObject());
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill(entireProcessTree: true);
        }
        catch (IOException)
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
