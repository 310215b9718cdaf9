using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Http;

namespace FastDfs.Tracker.Tests.Http;

/// <summary>The tracker's /api/files page: the union of the members' pages, complete only up to where every member got.</summary>
public sealed class FileListingPagesTests
{
    private static ListedFile F(string name) => new($"M00/00/00/{name}", 1, 0, ListedFileKind.Normal, false, 0);

    private static (IReadOnlyList<ListedFile>, string) Page(string next, params string[] names) => (names.Select(F).ToList(), next);

    [Fact]
    public void A_lagging_member_cannot_make_the_page_skip_the_names_the_other_member_has_not_sent_yet()
    {
        // A: f01..f04 then more; B (lagging, only even names) got further in the same page size.
        var (files, next) = FileListingPages.Merge(
            [Page("M00/00/00/f04", "f01", "f02", "f03", "f04"), Page("M00/00/00/f08", "f02", "f04", "f06", "f08")], limit: 10);
        Assert.Equal(["f01", "f02", "f03", "f04"], files.Select(f => f.LogicName[10..]));
        Assert.Equal("M00/00/00/f04", next); // f05..f08 come with the next page, f05 and f07 included
    }

    [Fact]
    public void The_limit_cuts_the_page_and_the_listing_ends_only_when_every_member_is_done()
    {
        var (files, next) = FileListingPages.Merge([Page("", "a", "b", "c"), Page("", "b", "d")], limit: 3);
        Assert.Equal(["a", "b", "c"], files.Select(f => f.LogicName[10..]));
        Assert.Equal("M00/00/00/c", next);

        (files, next) = FileListingPages.Merge([Page("", "a", "b"), Page("", "b", "d")], limit: 10);
        Assert.Equal(["a", "b", "d"], files.Select(f => f.LogicName[10..]));
        Assert.Null(next);
    }

    [Fact]
    public void Members_that_sent_no_name_but_have_more_keep_the_listing_going()
    {
        // A slow walk through empty sub-directories: no names yet, a directory cursor.
        var (files, next) = FileListingPages.Merge([Page("M00/3A/"), Page("")], limit: 10);
        Assert.Empty(files);
        Assert.Equal("M00/3A/", next);
    }
}
