// A file service on FastDFS in one page: upload (multipart), download (Range, HEAD, download name), delete and metadata.
// Run a cluster (`fdfs server`), then `dotnet run --project samples/FastDfs.Samples.MinimalApi` and see README.md beside this file.
using FastDfs.Client;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Metadata;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddFastDfs(builder.Configuration.GetSection("FastDfs"));
builder.Services.AddHealthChecks().AddFastDfs();
var app = builder.Build();

// Form uploads are the API's clients' own (no browser form of ours to protect): no antiforgery token is asked.
app.MapPost("/files", async (IFormFile file, IFastDfsClient fdfs, CancellationToken ct) =>
{
    var id = await fdfs.UploadAsync(file, [new MetadataItem("name", file.FileName)], ct: ct);
    return Results.Created($"/files/{id}", new { fileId = id.ToString(), url = fdfs.GetHttpUrl(id).ToString() });
}).DisableAntiforgery();

app.MapMethods("/files/{**id}", ["GET", "HEAD"], (string id, string? download, IFastDfsClient fdfs) =>
    FileId.TryParse(id, out var fileId) ? fdfs.FileResult(fileId, downloadName: download) : Results.BadRequest("not a file id"));

app.MapDelete("/files/{**id}", async (string id, IFastDfsClient fdfs, CancellationToken ct) =>
    await Answer(id, async fileId => { await fdfs.DeleteAsync(fileId, ct); return Results.NoContent(); }));

app.MapGet("/metadata/{**id}", async (string id, IFastDfsClient fdfs, CancellationToken ct) =>
    await Answer(id, async fileId => Results.Ok((await fdfs.GetMetadataAsync(fileId, ct)).ToDictionary(m => m.Name, m => m.Value))));

app.MapPut("/metadata/{**id}", async (string id, Dictionary<string, string> items, bool? merge, IFastDfsClient fdfs, CancellationToken ct) =>
    await Answer(id, async fileId =>
    {
        await fdfs.SetMetadataAsync(fileId, items.Select(i => new MetadataItem(i.Key, i.Value)), merge == true ? MetadataOp.Merge : MetadataOp.Overwrite, ct);
        return Results.NoContent();
    }));

app.MapHealthChecks("/health");
app.Run();

// A bad file ID is 400, a missing file 404, another server error 502 with its errno text.
static async Task<IResult> Answer(string id, Func<FileId, Task<IResult>> action)
{
    if (!FileId.TryParse(id, out var fileId))
    {
        return Results.BadRequest("not a file id");
    }

    try
    {
        return await action(fileId);
    }
    catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
    {
        return Results.NotFound();
    }
    catch (FastDfsException e) when (e.IsServerError)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status502BadGateway);
    }
}

namespace FastDfs.Samples.MinimalApi
{
    /// <summary>A type of this application's assembly, for WebApplicationFactory in the tests (Program is also the CLI's name).</summary>
    public sealed class SampleApi;
}
