#!/usr/bin/env bash
# The repository's test command: builds FastDfs.slnx once, runs every test project of the
# solution with a TRX logger, sums the TRX counters and ends with the plain line
#   N passed, N failed
# Exit code: 0 only when the build succeeded, at least one test ran and none failed.
#
# Environment (all optional):
#   TEST_RESULTS_DIR   where the .trx files and logs go (default: ./TestResults, git-ignored)
#   TEST_CONFIGURATION Debug (default) or Release
#   TEST_FILTER        passed to dotnet test --filter (e.g. "FullyQualifiedName~Tracker")
#   TEST_PROJECT_TIMEOUT  wall-clock limit in seconds for one test project (default 900)
#   TEST_HANG_TIMEOUT  per-test hang limit for dotnet test --blame-hang-timeout (default 5m)
#   ALLOW_NO_TESTS=1   treat "no test ran at all" as success (default: counted as 1 failure)
# Exported for the tests: FASTDFS_REPO_ROOT, FASTDFS_COMPAT_NODE_DIR (tests/compat/node).
set -uo pipefail

cd "$(dirname "$0")" || exit 1
ROOT=$PWD
RESULTS_DIR=${TEST_RESULTS_DIR:-$ROOT/TestResults}
CONFIGURATION=${TEST_CONFIGURATION:-Debug}
PROJECT_TIMEOUT=${TEST_PROJECT_TIMEOUT:-900}
HANG_TIMEOUT=${TEST_HANG_TIMEOUT:-5m}
NODE_DIR=$ROOT/tests/compat/node

export FASTDFS_REPO_ROOT=$ROOT
# The in-process servers of the tests run with .NET's default socket completions: a test process hosts many
# servers at once, and with inline completions one of them blocking (an fsync) stalls all the others (see
# docs/configuration.md). The fdfs daemons started by the tests (ProcessKillTests, AllInOneServerTests, CLI tests) run
# inline, as deployed.
export FASTDFS_COMPAT_NODE_DIR=$NODE_DIR
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# No build servers or reused MSBuild nodes: nothing outlives this script, nothing holds its
# output open (a lingering node keeps a CI pipe from closing).
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

passed=0
failed=0
setup_failures=0
notes=()

finish() {
    # $1: exit code to use when nothing failed
    if [ "$failed" -eq 0 ] && [ "$passed" -eq 0 ] && [ "${ALLOW_NO_TESTS:-0}" != 1 ]; then
        notes+=("no test ran: counted as 1 failure (set ALLOW_NO_TESTS=1 to accept an empty run)")
        failed=1
    fi
    echo
    echo "== summary"
    local n
    for n in "${notes[@]}"; do
        case $n in
            " "*) echo "  $n" ;;
            *) echo "  - $n" ;;
        esac
    done
    mkdir -p "$RESULTS_DIR"
    echo "$passed passed, $failed failed" > "$RESULTS_DIR/summary.txt"
    echo "$passed passed, $failed failed"
    if [ "$failed" -ne 0 ]; then
        exit 1
    fi
    exit "$1"
}

# Runs "$@" with its output in a log file, shown live, with no pipe for a child to inherit.
# Sets last_rc.
run_logged() {
    local log=$1 limit=$2
    shift 2
    : > "$log" # exists before tail opens it
    timeout --kill-after=30 "$limit" "$@" >> "$log" 2>&1 < /dev/null &
    local pid=$!
    # GNU tail reads the rest of the file once the process is gone, then exits.
    tail -n +1 -f --pid="$pid" "$log"
    wait "$pid"
    last_rc=$?
}

rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

# ---- 1. Node.js compatibility client (tests/compat/node) ---------------------------------
if [ -f "$NODE_DIR/package-lock.json" ] && [ ! -d "$NODE_DIR/node_modules" ]; then
    echo "== npm ci in tests/compat/node"
    if ! command -v npm > /dev/null 2>&1; then
        notes+=("npm not found: tests/compat/node not installed (counted as 1 failure)")
        setup_failures=$((setup_failures + 1))
    elif ! (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error < /dev/null); then
        notes+=("npm ci in tests/compat/node failed (counted as 1 failure)")
        setup_failures=$((setup_failures + 1))
    fi
fi
failed=$((failed + setup_failures))

# ---- 2. Build the solution once -------------------------------------------------------------
if ! command -v dotnet > /dev/null 2>&1; then
    notes+=("dotnet not found on PATH: nothing built (counted as 1 failure)")
    failed=$((failed + 1))
    finish 1
fi

echo "== dotnet build FastDfs.slnx ($CONFIGURATION)"
build_log=$RESULTS_DIR/build.log
run_logged "$build_log" 1200 dotnet build FastDfs.slnx -c "$CONFIGURATION" -nodeReuse:false -p:UseSharedCompilation=false
if [ "$last_rc" -ne 0 ]; then
    echo
    echo "== build failed (exit $last_rc); errors:"
    grep -E ': error [A-Z]+[0-9]*' "$build_log" | sed -E 's/^ +//' | sort -u | head -n 40
    if [ "$last_rc" -eq 124 ] || [ "$last_rc" -eq 137 ]; then
        notes+=("dotnet build timed out")
    fi
    notes+=("build of FastDfs.slnx failed (exit $last_rc): no test was run; counted as 1 failure")
    failed=$((failed + 1))
    finish 1
fi

# ---- 3. Run each test project of the solution -------------------------------------------------
# Test projects: the solution's projects whose .csproj says <IsTestProject>true</IsTestProject>
# (or references Microsoft.NET.Test.Sdk). One dotnet test per project, each with its own .trx.
mapfile -t projects < <(grep -oE 'Path="[^"]+\.csproj"' FastDfs.slnx | sed -E 's/^Path="(.*)"$/\1/' | tr '\\' '/')
test_projects=()
for p in "${projects[@]}"; do
    if [ -f "$p" ] && grep -qiE '<IsTestProject>[[:space:]]*true|Microsoft\.NET\.Test\.Sdk' "$p"; then
        test_projects+=("$p")
    fi
done
if [ "${#test_projects[@]}" -eq 0 ]; then
    notes+=("no test project found in FastDfs.slnx")
fi

# Reads one attribute of the <Counters .../> element of a .trx file (0 if absent).
counter() {
    local trx=$1 name=$2 v
    v=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 | grep -oE "[[:space:]]$name=\"[0-9]+\"" | grep -oE '[0-9]+')
    echo "${v:-0}"
}

filter_args=()
if [ -n "${TEST_FILTER:-}" ]; then
    filter_args=(--filter "$TEST_FILTER")
fi

for proj in "${test_projects[@]}"; do
    name=$(basename "$proj" .csproj)
    trx=$RESULTS_DIR/$name.trx
    echo
    echo "== dotnet test $proj"
    run_logged "$RESULTS_DIR/$name.log" "$PROJECT_TIMEOUT" \
        dotnet test "$proj" --no-build -c "$CONFIGURATION" \
        --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS_DIR" \
        --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none \
        "${filter_args[@]}"
    rc=$last_rc
    if [ ! -f "$trx" ]; then
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            notes+=("$name: stopped after ${PROJECT_TIMEOUT}s (TEST_PROJECT_TIMEOUT)")
        fi
        notes+=("$name: dotnet test exit $rc and no $name.trx (crash, timeout or bad project): counted as 1 failure")
        failed=$((failed + 1))
        continue
    fi
    p_passed=$(counter "$trx" passed)
    p_failed=$(( $(counter "$trx" failed) + $(counter "$trx" error) + $(counter "$trx" timeout) + $(counter "$trx" aborted) ))
    p_total=$(counter "$trx" total)
    p_executed=$(counter "$trx" executed)
    p_skipped=$(( p_total - p_executed ))
    if [ "$rc" -ne 0 ] && [ "$p_failed" -eq 0 ]; then
        # The run went wrong without a failed test in the .trx (host crash, hang kill, ...).
        notes+=("$name: dotnet test exit $rc with no failed test in the .trx: counted as 1 failure")
        p_failed=1
        # Blame names the test that was running when the host crashed or was killed for hanging.
        culprit=$(grep -A1 -E '^The test running when the crash occurred' "$RESULTS_DIR/$name.log" | tail -n 1)
        reason=$(grep -m1 -E 'aborted\. Reason:|inactivity time' "$RESULTS_DIR/$name.log")
        [ -n "$reason" ] && notes+=("    $reason")
        [ -n "$culprit" ] && notes+=("    running then: $culprit")
    fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        notes+=("$name: stopped after ${PROJECT_TIMEOUT}s (TEST_PROJECT_TIMEOUT)")
    fi
    notes+=("$name: $p_passed passed, $p_failed failed, $p_skipped not executed (of $p_total)")
    # Name the failed tests (testName of UnitTestResult elements with outcome="Failed").
    while IFS= read -r t; do
        [ -n "$t" ] && notes+=("    FAILED $t")
    done < <(grep -oE '<UnitTestResult [^>]*outcome="(Failed|Error|Timeout|Aborted)"[^>]*>' "$trx" |
        grep -oE 'testName="[^"]*"' | sed -E 's/^testName="(.*)"$/\1/' | head -n 50)
    passed=$((passed + p_passed))
    failed=$((failed + p_failed))
done

if [ "${CI:-}" = true ]; then
    dotnet build-server shutdown > /dev/null 2>&1 || true
fi
finish 0
