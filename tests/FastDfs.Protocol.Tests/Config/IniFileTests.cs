using FastDfs.Protocol.Config;

namespace FastDfs.Protocol.Tests.Config;

public class IniFileTests
{
    [Fact]
    public void Splits_at_first_equals_and_trims()
    {
        var ini = IniFile.Parse("  key one  =  a = b  \n\tport=22122\t\n");

        Assert.Equal("a = b", ini.GetString("key one"));
        Assert.Equal("22122", ini.GetString("port"));
    }

    [Fact]
    public void Comment_lines_are_skipped_but_trailing_comments_stay_in_the_value()
    {
        var ini = IniFile.Parse("""
            # port = 1
               # indented comment = 2
            port = 22122 # the tracker port
            """);

        Assert.Equal("22122 # the tracker port", ini.GetString("port"));
        Assert.Null(ini.GetString("# indented comment"));
        Assert.Single(ini.Global.Entries);
    }

    [Fact]
    public void Trailing_comment_makes_an_integer_invalid_with_a_hint()
    {
        var ini = IniFile.Parse("port = 22122 # x\n");

        var ex = ConfAssert.ThrowsFor("port", () => ini.GetInt("port", 1));
        Assert.Contains("22122 # x", ex.Message);
        Assert.Contains("trailing comments", ex.Message);
        Assert.Equal(1, ex.Line);
    }

    [Fact]
    public void Lines_without_equals_and_empty_keys_are_ignored()
    {
        var ini = IniFile.Parse("just some words\n= orphan value\nkey = v\n");

        Assert.Single(ini.Global.Entries);
        Assert.Equal("v", ini.GetString("key"));
    }

    [Fact]
    public void Empty_value_is_present_and_empty()
    {
        var ini = IniFile.Parse("bind_addr =\n");

        Assert.True(ini.Contains("bind_addr"));
        Assert.Equal("", ini.GetString("bind_addr"));
        Assert.False(ini.Contains("other"));
    }

    [Fact]
    public void Last_occurrence_wins_and_multi_value_readers_get_all_in_order()
    {
        var ini = IniFile.Parse("""
            tracker_server = 10.0.0.1:22122
            port = 1
            tracker_server = 10.0.0.2:22122
            port = 2
            tracker_server = 10.0.0.3:22122
            """);

        Assert.Equal("2", ini.GetString("port"));
        Assert.Equal(2, ini.GetInt("port", 0));
        Assert.Equal(["10.0.0.1:22122", "10.0.0.2:22122", "10.0.0.3:22122"], ini.GetAll("tracker_server"));
        Assert.Empty(ini.GetAll("missing"));
    }

    [Fact]
    public void Keys_are_case_sensitive()
    {
        var ini = IniFile.Parse("Port = 1\n");

        Assert.Null(ini.GetString("port"));
        Assert.Equal("1", ini.GetString("Port"));
    }

    [Fact]
    public void Key_after_a_section_header_is_not_global()
    {
        var ini = IniFile.Parse("""
            base_path = /data
            [error-log]
            log_file_keep_days = 30
            port = 9999
            """);

        Assert.Null(ini.GetString("port"));
        Assert.Equal(123, ini.GetInt("port", 123));
        Assert.Equal("9999", ini.GetString("port", "error-log"));
        Assert.Equal("30", ini.GetSection("error-log")!.GetString("log_file_keep_days"));
        Assert.Equal(["error-log"], ini.SectionNames);
    }

    [Fact]
    public void Empty_brackets_return_to_global_and_repeated_sections_merge()
    {
        var ini = IniFile.Parse("""
            [ access-log ]
            enabled = true
            []
            port = 1
            [access-log]
            time_precision = us
            """);

        var access = ini.GetSection("access-log")!;
        Assert.Equal("true", access.GetString("enabled"));
        Assert.Equal("us", access.GetString("time_precision"));
        Assert.Equal("1", ini.GetString("port"));
        Assert.Same(ini.Global, ini.GetSection(""));
        Assert.Null(ini.GetSection("nope"));
        Assert.Equal("fallback", ini.GetString("x", "nope") ?? "fallback");
    }

    [Fact]
    public void Error_log_helper_prefers_the_section_then_falls_back_to_global()
    {
        var ini = IniFile.Parse("""
            log_file_keep_days = 15
            log_file_rotate_time = 00:00
            [error-log]
            log_file_keep_days = 30
            """);

        Assert.Equal(30, ini.ErrorLog.GetInt("log_file_keep_days", 0));
        Assert.Equal(new TimeOnly(0, 0), ini.ErrorLog.GetTime("log_file_rotate_time", new TimeOnly(5, 5)));
        Assert.False(ini.ErrorLog.Contains("absent"));
        // Without an [error-log] section at all the helper reads global keys.
        Assert.Equal(15, IniFile.Parse("log_file_keep_days = 15").ErrorLog.GetInt("log_file_keep_days", 0));
        // The plain global reader does not see section keys.
        Assert.Equal(15, ini.GetInt("log_file_keep_days", 0));
    }

    [Fact]
    public void Crlf_and_bom_are_handled()
    {
        var ini = IniFile.Parse("\uFEFFport = 22122\r\nbase_path = /data\r\n");

        Assert.Equal("22122", ini.GetString("port"));
        Assert.Equal("/data", ini.GetString("base_path"));
    }

    [Fact]
    public void Long_keys_and_values_are_truncated_like_stock()
    {
        var longKey = new string('k', 70);
        var longValue = new string('v', 300);
        var ini = IniFile.Parse($"{longKey}={longValue}\n");

        var entry = Assert.Single(ini.Global.Entries);
        Assert.Equal(new string('k', 63), entry.Key);
        Assert.Equal(new string('v', 255), entry.Value);
    }

    [Fact]
    public void Preprocessor_directives_are_ignored_as_comments()
    {
        var ini = IniFile.Parse("""
            #@if %{host} in [10.0.0.1]
            port = 1
            #@else
            port = 2
            #@endif
            #@function SHELL_EXEC
            host = hostname
            """);

        Assert.Equal("2", ini.GetString("port"));
        Assert.Equal("hostname", ini.GetString("host"));
        Assert.Equal(3, ini.Global.Entries.Count);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("Yes", true)]
    [InlineData("on", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("2", false)]
    [InlineData("y", false)]
    [InlineData("ture", false)]
    [InlineData("", false)]
    [InlineData("01", false)]
    public void Booleans_follow_stock_rules(string value, bool expected)
    {
        var ini = IniFile.Parse($"flag = {value}\n");

        Assert.Equal(expected, ini.GetBool("flag", !expected));
    }

    [Fact]
    public void Absent_boolean_takes_the_default()
    {
        var ini = IniFile.Parse("");

        Assert.True(ini.GetBool("flag", true));
        Assert.False(ini.GetBool("flag", false));
    }

    [Theory]
    [InlineData("256KB", 256L * 1024)]
    [InlineData("64MB", 64L << 20)]
    [InlineData("64 MB", 64L << 20)]
    [InlineData("64\tm", 64L << 20)]
    [InlineData("20G", 20L << 30)]
    [InlineData("20gb", 20L << 30)]
    [InlineData("2T", 2L << 40)]
    [InlineData("8kb", 8192)]
    [InlineData("100", 100)]
    [InlineData("0", 0)]
    [InlineData("+5K", 5120)]
    public void Sizes_accept_units(string value, long expected)
    {
        var ini = IniFile.Parse($"buff_size = {value}\n");

        Assert.Equal(expected, ini.GetBytes("buff_size", -1));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-1K")]
    [InlineData("12X")]
    [InlineData("12KBB")]
    [InlineData("12KX")]
    [InlineData("100B")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("K")]
    [InlineData("99999999999T")]
    public void Invalid_sizes_are_errors_naming_key_and_value(string value)
    {
        var ini = IniFile.Parse($"\nbuff_size = {value}\n");

        var ex = ConfAssert.ThrowsFor("buff_size", () => ini.GetBytes("buff_size", 0));
        Assert.Contains($"\"{value}\"", ex.Message);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Absent_size_takes_the_default()
    {
        Assert.Equal(42, IniFile.Parse("").GetBytes("buff_size", 42));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("10s")]
    [InlineData("99999999999")]
    public void Invalid_integers_are_errors(string value)
    {
        var ini = IniFile.Parse($"work_threads = {value}\n");

        ConfAssert.ThrowsFor("work_threads", () => ini.GetInt("work_threads", 4));
    }

    [Theory]
    [InlineData("-3", -3)]
    [InlineData("+7", 7)]
    [InlineData("0", 0)]
    public void Integers_may_be_signed(string value, int expected)
    {
        Assert.Equal(expected, IniFile.Parse($"n = {value}").GetInt("n", 99));
    }

    [Theory]
    [InlineData("02:00", 2, 0, 0)]
    [InlineData("2:5", 2, 5, 0)]
    [InlineData("23:59:59", 23, 59, 59)]
    [InlineData("00:00", 0, 0, 0)]
    public void Times_of_day(string value, int hour, int minute, int second)
    {
        var ini = IniFile.Parse($"t = {value}\n");

        Assert.Equal(new TimeOnly(hour, minute, second), ini.GetTime("t", default));
    }

    [Theory]
    [InlineData("24:00")]
    [InlineData("12:60")]
    [InlineData("12")]
    [InlineData("1:2:3:4")]
    [InlineData("ab:cd")]
    [InlineData("-1:00")]
    public void Invalid_times_are_errors(string value)
    {
        var ini = IniFile.Parse($"t = {value}\n");

        ConfAssert.ThrowsFor("t", () => ini.GetTime("t", default));
    }

    [Fact]
    public void Include_is_relative_to_the_including_file_and_resets_to_global()
    {
        using var dir = new TempConfDir();
        dir.Write("conf/http.conf", """
            http.anti_steal.check_token = true
            [inner]
            only_inner = 1
            """);
        dir.Write("conf/sub/extra.conf", "extra = yes\n#include ../more.conf\n");
        dir.Write("conf/more.conf", "more = 1\n");
        var main = dir.Write("conf/client.conf", """
            port = 1
            [error-log]
            log_file_keep_days = 9
            #include http.conf
            after_include = global
            #INCLUDE	sub/extra.conf
            ##include missing.conf
            #includemissing.conf
            port = 2
            """);

        var ini = IniFile.Load(main);

        Assert.Equal("true", ini.GetString("http.anti_steal.check_token"));
        Assert.Equal("global", ini.GetString("after_include"));
        Assert.Equal("yes", ini.GetString("extra"));
        Assert.Equal("1", ini.GetString("more"));
        Assert.Equal("2", ini.GetString("port"));
        Assert.Equal("1", ini.GetString("only_inner", "inner"));
        Assert.Null(ini.GetString("only_inner"));
        Assert.Equal("9", ini.GetString("log_file_keep_days", "error-log"));
        Assert.Null(ini.GetString("after_include", "error-log"));
        Assert.Equal(main, ini.Path);
        Assert.Equal(Path.Combine(dir.Root, "conf"), ini.BaseDirectory);

        var included = ini.Global.Find("http.anti_steal.check_token")!;
        Assert.Equal(Path.Combine(dir.Root, "conf", "http.conf"), included.File);
        Assert.Equal(1, included.Line);
    }

    [Fact]
    public void Include_from_text_uses_the_base_directory_and_absolute_paths_work()
    {
        using var dir = new TempConfDir();
        var absolute = dir.Write("abs.conf", "a = 1\n");
        dir.Write("rel.conf", "r = 2\n");

        var ini = IniFile.Parse($"#include {absolute}\n#include file://{absolute}\n#include rel.conf\n", dir.Root);

        Assert.Equal(["1", "1"], ini.GetAll("a"));
        Assert.Equal("2", ini.GetString("r"));
    }

    [Fact]
    public void Missing_include_is_an_error_with_file_and_line()
    {
        using var dir = new TempConfDir();
        var main = dir.Write("tracker.conf", "port = 1\n\n#include nothere.conf\n");

        var ex = Assert.Throws<ConfigException>(() => IniFile.Load(main));

        Assert.Equal(main, ex.File);
        Assert.Equal(3, ex.Line);
        Assert.Contains("nothere.conf", ex.Message);
        Assert.StartsWith($"{main}:3:", ex.Message);
    }

    [Theory]
    [InlineData("http://example.com/fdfs.conf")]
    [InlineData("HTTPS://example.com/fdfs.conf")]
    public void Url_include_is_not_supported(string url)
    {
        var ex = Assert.Throws<ConfigException>(() => IniFile.Parse($"#include {url}\n"));

        Assert.Contains("not supported", ex.Message);
        Assert.Equal(1, ex.Line);
    }

    [Fact]
    public void Include_cycle_is_an_error_not_a_stack_overflow()
    {
        using var dir = new TempConfDir();
        dir.Write("b.conf", "#include a.conf\n");
        var a = dir.Write("a.conf", "#include b.conf\n");

        var ex = Assert.Throws<ConfigException>(() => IniFile.Load(a));

        Assert.Contains("cycle", ex.Message);
    }

    [Fact]
    public void Missing_file_is_a_clear_error()
    {
        using var dir = new TempConfDir();
        var path = Path.Combine(dir.Root, "missing.conf");

        var ex = Assert.Throws<ConfigException>(() => IniFile.Load(path));

        Assert.Equal(path, ex.File);
        Assert.Contains("not found", ex.Message);
    }
}
