#!/usr/bin/env bash
# bench/matrix.sh: the "ours vs stock FastDFS" matrix of docs/benchmarks.md.
#
#   bench/matrix.sh ours|stock OUTDIR [SIZES...]      one pass against one server kind (run as root)
#   bench/matrix.sh table A1 B1 B2 A2                  markdown tables from four pass folders
#
# A pass: creates network namespaces (HOSTS=3, the default: tracker, storage and load generator each in a
# namespace of its own, ${NETNS_PREFIX}-t/-s/-c at .1/.2/.3 of 10.98.0.0/24, joined by a bridge in
# ${NETNS_PREFIX}-sw; HOSTS=1: all three in ${NETNS_PREFIX}-h1 at 10.98.0.1), makes a fresh ext4 file
# system (a loop-mounted image under OUTDIR), writes tracker.conf / storage.conf from stock's sample confs
# with only the changes listed in docs/benchmarks.md ("Setup"), starts a tracker and a storage of the
# chosen kind, waits until an upload succeeds, runs the warm-up (not recorded), then for each size and
# 1, 8, 32 clients an upload and a download of the uploaded files with the load generator (LOADGEN), with
# the servers' CPU per op and peak RSS. Everything it started (servers, mount, image, namespaces) is
# stopped and removed on exit, also on failure or Ctrl-C.
#
# Output in OUTDIR: upload-SIZE-C.json / download-SIZE-C.json (the JSON of `fdfs bench --json`), the
# text summaries (*.txt), ids-SIZE-C (uploaded file ids), rss-OP-SIZE-C.txt (storage VmRSS after the
# cell), load.txt (uptime before / at the start / at the end of the measured part), pass.txt (what ran),
# conf/ (the confs used, conf/changes.diff against the samples), logs/ (server logs).
#
# Order of the published matrix: A, B, B, A (ours, stock, stock, ours), then the table mode with the
# four folders in that order: the tables show the mean of the two passes of each kind, and per pass.
#
# This script does NOT build or fetch stock FastDFS: provide its binaries (fdfs_trackerd, fdfs_storaged,
# built and installed from the FastDFS sources with libfastcommon and libserverframe) and its sample
# tracker.conf and storage.conf (fastdfs/conf in its source tree).
#
# Environment:
#   STOCK_CONF_DIR  folder with stock's sample tracker.conf and storage.conf (required for both kinds,
#                   so both servers read identical confs)
#   STOCK_BIN_DIR   where fdfs_trackerd and fdfs_storaged are (default /usr/bin; stock passes only)
#   FDFS            command of our `fdfs` executable (the servers for ours, the load generator with
#                   LOADGEN=fdfs). Default: `dotnet publish -c Release src/FastDfs.Cli` (Native AOT, as deployed)
#                   into OUTDIR/fdfs-build (outside the source tree). For a full matrix build once and set FDFS
#                   for all passes.
#   LOADGEN         lean (default): bench/loadgen/fdfs_load.c, a C generator built here with cc (-lz -ldl);
#                   it spends a fraction of the servers' CPU per operation. fdfs: `fdfs bench`.
#   HOSTS           3 (default): tracker, storage and generator in three namespaces; 1: one namespace
#   NETNS_PREFIX    namespace prefix (default bx)
#   BENCH_NET       first three octets of the namespaces' /24 (default 10.98.0)
#   IMAGE_SIZE      size of the file-system image (default 20G; sparse)
#   CLIENTS         concurrencies (default "1 8 32")
#   WAIT_TIMEOUT    seconds to wait for a server to start, become ready or stop (default 60)
#   CELL_TIMEOUT    seconds after which one bench command is stopped (default 900)
#   BENCH_IO        LOADGEN=fdfs only: `fdfs bench --io` (default blocking: a thread per client)
#   SERVER_ENV      extra NAME=VALUE settings for our tracker and storage only (e.g. runtime knobs to compare)

set -euo pipefail

usage() {
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    echo "see the header of $0 for the environment variables" >&2
    exit 2
}

die() { echo "matrix.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }

# ---------------------------------------------------------------------------------------------------
# table mode
# ---------------------------------------------------------------------------------------------------
table() {
    [[ $# -eq 4 ]] || die "table needs four pass folders: OUTDIR_A1 OUTDIR_B1 OUTDIR_B2 OUTDIR_A2 (A = ours, B = stock)"
    local d
    for d in "$@"; do [[ -d $d ]] || die "not a folder: $d"; done
    command -v python3 >/dev/null || die "python3 is needed for the table mode"
    python3 - "$@" <<'PY'
import glob, json, os, re, sys

a1, b1, b2, a2 = sys.argv[1:5]
ours, stock = [a1, a2], [b1, b2]
UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}

def size_bytes(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?B)", s, re.I)
    return float(m.group(1)) * UNITS[m.group(2).upper()] if m else float("inf")

def kind_of(d):
    try:
        for line in open(os.path.join(d, "pass.txt")):
            if line.startswith("kind:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None

for d, want in ((a1, "ours"), (b1, "stock"), (b2, "stock"), (a2, "ours")):
    k = kind_of(d)
    if k is not None and k != want:
        print(f"warning: {d} is a '{k}' pass, given as a '{want}' pass", file=sys.stderr)
    try:
        results = [l.split(":", 1)[1].strip() for l in open(os.path.join(d, "pass.txt")) if l.startswith("result:")]
    except OSError:
        results = ["no pass.txt"]
    if results != ["ok"]:
        print(f"warning: {d}: pass result {', '.join(results) or 'unknown (still running?)'}", file=sys.stderr)

def load(d, op, size, c):
    try:
        with open(os.path.join(d, f"{op}-{size}-{c}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def split(r):
    """(tracker, storage) CPU us/op and peak RSS MB, from fdfs_load's serverByPid or fdfs bench's cpuMicrosPerOpByPid."""
    if r is None:
        return None
    if "serverByPid" in r and len(r["serverByPid"]) == 2:
        t, s = r["serverByPid"]
        return t["cpuMicrosPerOp"], s["cpuMicrosPerOp"], t["peakRssBytes"] / 2**20, s["peakRssBytes"] / 2**20
    by = field(r, "server", "cpuMicrosPerOpByPid")
    if by and len(by) == 2:
        return by[0], by[1], None, None
    return None

def rss_mb(d, op, size, c):
    try:
        m = re.search(r"(\d+)\s*kB", open(os.path.join(d, f"rss-{op}-{size}-{c}.txt")).read())
        return int(m.group(1)) / 1024 if m else None
    except OSError:
        return None

def field(r, *path):
    for p in path:
        if r is None or p not in r:
            return None
        r = r[p]
    return r

cells = set()
for d in (a1, b1, b2, a2):
    for p in glob.glob(os.path.join(d, "*.json")):
        m = re.fullmatch(r"(upload|download)-(.+)-(\d+)\.json", os.path.basename(p))
        if m:
            cells.add((m.group(1), m.group(2), int(m.group(3))))
order = {"upload": 0, "download": 1}
cells = sorted(cells, key=lambda t: (order[t[0]], size_bytes(t[1]), t[2]))
if not cells:
    sys.exit("matrix.sh: no upload-*/download-* JSON files in the given folders")


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None

def f(x, fmt):
    return "–" if x is None else format(x, fmt)

def each(xs, fmt):
    return ", ".join(f(x, fmt) for x in xs)

missing = []
print("| op | size | clients | ours ops/s | stock ops/s | ratio | ours MB/s | stock MB/s | ours p50 / p99 ms "
      "| stock p50 / p99 ms | ours server CPU µs/op | stock server CPU µs/op | errors (ours/stock) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
rows2 = []
rows3 = []
for op, size, c in cells:
    ro = [load(d, op, size, c) for d in ours]
    rs = [load(d, op, size, c) for d in stock]
    for d, r in zip(ours + stock, ro + rs):
        if r is None:
            missing.append(os.path.join(d, f"{op}-{size}-{c}.json"))
    def m(rr, *path):
        return mean([field(r, *path) for r in rr])
    def ms(rr, *path):
        v = m(rr, *path)
        return None if v is None else v / 1000
    def errs(rr):
        v = [field(r, "errors") for r in rr if r is not None]
        return str(sum(v)) if v else "–"
    oo, so = m(ro, "opsPerSecond"), m(rs, "opsPerSecond")
    ratio = f"**{oo / so:.2f}**" if oo is not None and so else "–"
    print(f"| {op} | {size} | {c} | {f(oo, '.0f')} | {f(so, '.0f')} | {ratio} "
          f"| {f(m(ro, 'megabytesPerSecond'), '.1f')} | {f(m(rs, 'megabytesPerSecond'), '.1f')} "
          f"| {f(ms(ro, 'latencyMicros', 'p50'), '.2f')} / {f(ms(ro, 'latencyMicros', 'p99'), '.2f')} "
          f"| {f(ms(rs, 'latencyMicros', 'p50'), '.2f')} / {f(ms(rs, 'latencyMicros', 'p99'), '.2f')} "
          f"| {f(m(ro, 'server', 'cpuMicrosPerOp'), '.0f')} | {f(m(rs, 'server', 'cpuMicrosPerOp'), '.0f')} "
          f"| {errs(ro)}/{errs(rs)} |")
    rows2.append(
        f"| {op} | {size} | {c} "
        f"| {each([field(r, 'opsPerSecond') for r in ro], '.0f')} | {each([field(r, 'opsPerSecond') for r in rs], '.0f')} "
        f"| {each([field(r, 'server', 'cpuMicrosPerOp') for r in ro], '.0f')} "
        f"| {each([field(r, 'server', 'cpuMicrosPerOp') for r in rs], '.0f')} "
        f"| {each([rss_mb(d, op, size, c) for d in ours], '.0f')} | {each([rss_mb(d, op, size, c) for d in stock], '.0f')} "
        f"| {f(m(ro, 'clientCpuMicrosPerOp'), '.0f')} | {f(m(rs, 'clientCpuMicrosPerOp'), '.0f')} |")
    def tsplit(rr):
        parts = [split(r) for r in rr]
        parts = [x for x in parts if x is not None]
        if not parts:
            return "–", "–"
        cpu = " / ".join(f(mean([x[i] for x in parts]), ".0f") for i in (0, 1))
        rss = " / ".join(f(max((x[i] for x in parts if x[i] is not None), default=None), ".0f") for i in (2, 3))
        return cpu, rss
    (oc, orss), (sc, srss) = tsplit(ro), tsplit(rs)
    rows3.append(f"| {op} | {size} | {c} | {oc} | {sc} | {orss} | {srss} "
                 f"| {f(ms(ro, 'latencyMicros', 'p999'), '.2f')} | {f(ms(rs, 'latencyMicros', 'p999'), '.2f')} |")

print()
print("Per pass (ours: A1, A2; stock: B1, B2). RSS: the storage's VmRSS in MB after the cell; client CPU: mean of the passes.")
print()
print("| op | size | clients | ours ops/s | stock ops/s | ours server CPU µs/op | stock server CPU µs/op "
      "| ours storage RSS MB | stock storage RSS MB | ours client CPU µs/op | stock client CPU µs/op |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for row in rows2:
    print(row)

print()
print("Tracker / storage apart (mean CPU of the passes; peak RSS: the highest of the passes, sampled every 100 ms during the cell):")
print()
print("| op | size | clients | ours tracker / storage CPU µs/op | stock tracker / storage CPU µs/op "
      "| ours tracker / storage peak RSS MB | stock tracker / storage peak RSS MB | ours p99.9 ms | stock p99.9 ms |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for row in rows3:
    print(row)

print()
for name, d in (("A1 (ours)", a1), ("B1 (stock)", b1), ("B2 (stock)", b2), ("A2 (ours)", a2)):
    try:
        loads = "; ".join(l.strip() for l in open(os.path.join(d, "load.txt")) if l.strip())
    except OSError:
        loads = "no load.txt"
    print(f"- {name} {d}: {loads}")
if missing:
    print(f"\nmatrix.sh: {len(missing)} result file(s) missing, e.g. {missing[0]}", file=sys.stderr)
PY
}

if [[ ${1:-} == table ]]; then
    shift
    table "$@"
    exit 0
fi

# ---------------------------------------------------------------------------------------------------
# pass mode
# ---------------------------------------------------------------------------------------------------
[[ $# -ge 2 ]] || usage
KIND=$1
OUTDIR=$2
shift 2
[[ $KIND == ours || $KIND == stock ]] || usage
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(4KB 64KB 1MB 32MB)
read -r -a CLIENT_COUNTS <<<"${CLIENTS:-1 8 32}"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${NETNS_PREFIX:-bx}
NET=${BENCH_NET:-10.98.0}
HOSTS=${HOSTS:-3}
LOADGEN=${LOADGEN:-lean}
[[ $HOSTS == 1 || $HOSTS == 3 ]] || die "HOSTS must be 1 or 3"
[[ $LOADGEN == lean || $LOADGEN == fdfs ]] || die "LOADGEN must be lean or fdfs"
if [[ $HOSTS == 3 ]]; then
    NS_T=$PREFIX-t NS_S=$PREFIX-s NS_C=$PREFIX-c
    IP_T=$NET.1 IP_S=$NET.2 IP_C=$NET.3
else
    NS_T=$PREFIX-h1 NS_S=$PREFIX-h1 NS_C=$PREFIX-h1
    IP_T=$NET.1 IP_S=$NET.1 IP_C=$NET.1
fi
IMAGE_SIZE=${IMAGE_SIZE:-20G}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}
CELL_TIMEOUT=${CELL_TIMEOUT:-900}
BENCH_IO=${BENCH_IO:-blocking}
[[ $BENCH_IO == blocking || $BENCH_IO == async ]] || die "BENCH_IO must be blocking or async"
STOCK_BIN_DIR=${STOCK_BIN_DIR:-/usr/bin}

# The method of docs/benchmarks.md: how long each size runs (upload / download arguments).
cell_args() { # OP SIZE -> the arguments of fdfs bench
    case "$2" in
        4KB | 64KB) echo "--duration 5s" ;;
        1MB) [[ $1 == upload ]] && echo "--count 400" || echo "--count 800" ;;
        32MB) [[ $1 == upload ]] && echo "--count 48" || echo "--count 96" ;;
        *) return 1 ;;
    esac
}

for s in "${SIZES[@]}"; do
    cell_args upload "$s" >/dev/null || die "size $s: the method has 4KB, 64KB, 1MB and 32MB only"
done
[[ $(id -u) -eq 0 ]] || die "a pass needs root (ip netns, mount)"
[[ -n ${STOCK_CONF_DIR:-} ]] || die "set STOCK_CONF_DIR to a folder with stock's sample tracker.conf and storage.conf"
for f in tracker.conf storage.conf; do
    [[ -f $STOCK_CONF_DIR/$f ]] || die "no $f in STOCK_CONF_DIR ($STOCK_CONF_DIR)"
done
if [[ $KIND == stock ]]; then
    for b in fdfs_trackerd fdfs_storaged; do
        [[ -x $STOCK_BIN_DIR/$b ]] || die "no executable $STOCK_BIN_DIR/$b (set STOCK_BIN_DIR)"
    done
fi
[[ $LOADGEN == lean ]] && { command -v cc >/dev/null || die "cc is needed to build the lean load generator (LOADGEN=lean)"; }
for c in ip mount umount mkfs.ext4 truncate ss timeout; do
    command -v "$c" >/dev/null || die "$c is needed"
done
if [[ -e $OUTDIR ]] && [[ -n $(ls -A "$OUTDIR") ]]; then
    die "$OUTDIR exists and is not empty (each pass needs a fresh folder)"
fi
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
mkdir -p "$OUTDIR/conf" "$OUTDIR/logs"

# ----- state for the cleanup ------------------------------------------------------------------------
NS_CREATED=()
MNT="$OUTDIR/mnt"
IMG="$OUTDIR/fs.img"
MOUNTED=0
TRACKER_PID=
STORAGE_PID=
STOCK_STARTED=0

alive() { # PID: running and not a zombie
    local pid=$1 stat
    [[ -n $pid ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

wait_gone() { # PID SECONDS -> 0 when the process is gone within the time
    local pid=$1 deadline=$((SECONDS + $2))
    while alive "$pid"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
    return 0
}

stop_servers() {
    local - pid
    set +e
    if [[ $KIND == stock && $STOCK_STARTED -eq 1 ]]; then
        # also a daemon whose pid the start did not get (e.g. its pid file came late)
        [[ -z $TRACKER_PID ]] && TRACKER_PID=$(cat "$MNT/tracker/data/fdfs_trackerd.pid" 2>/dev/null)
        [[ -z $STORAGE_PID ]] && STORAGE_PID=$(cat "$MNT/storage/data/fdfs_storaged.pid" 2>/dev/null)
        [[ -n $STORAGE_PID ]] && alive "$STORAGE_PID" &&
            timeout -k 5 "$WAIT_TIMEOUT" "$STOCK_BIN_DIR/fdfs_storaged" "$OUTDIR/conf/storage.conf" stop >>"$OUTDIR/logs/stop.txt" 2>&1
        [[ -n $TRACKER_PID ]] && alive "$TRACKER_PID" &&
            timeout -k 5 "$WAIT_TIMEOUT" "$STOCK_BIN_DIR/fdfs_trackerd" "$OUTDIR/conf/tracker.conf" stop >>"$OUTDIR/logs/stop.txt" 2>&1
    else
        [[ -n $STORAGE_PID ]] && kill -TERM "$STORAGE_PID" 2>/dev/null
        [[ -n $STORAGE_PID ]] && ! wait_gone "$STORAGE_PID" "$WAIT_TIMEOUT" && log "storage did not stop in ${WAIT_TIMEOUT}s"
        [[ -n $TRACKER_PID ]] && kill -TERM "$TRACKER_PID" 2>/dev/null
    fi
    for pid in $STORAGE_PID $TRACKER_PID; do
        if ! wait_gone "$pid" "$WAIT_TIMEOUT"; then
            log "process $pid did not stop in ${WAIT_TIMEOUT}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
            wait_gone "$pid" 10
        fi
        wait "$pid" 2>/dev/null # reaps ours (children of this script); stock's daemons are not children
    done
    TRACKER_PID=
    STORAGE_PID=
    STOCK_STARTED=0
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [[ -f $OUTDIR/pass.txt ]] && echo "result: $([[ $rc -eq 0 ]] && echo ok || echo "FAILED (exit $rc)")" >>"$OUTDIR/pass.txt"
    stop_servers
    if [[ $MOUNTED -eq 1 ]]; then
        # the servers' own logs (stock writes base_path/logs; ours logs to stdout, kept in logs/ already)
        for d in tracker storage; do
            [[ -d $MNT/$d/logs ]] && cp -r "$MNT/$d/logs" "$OUTDIR/logs/$d-base-logs" 2>/dev/null
        done
        local i
        for i in 1 2 3 4 5; do
            umount "$MNT" 2>/dev/null && { MOUNTED=0; break; }
            sleep 1
        done
        if [[ $MOUNTED -eq 1 ]]; then
            log "umount $MNT failed; lazy unmount"
            umount -l "$MNT" && MOUNTED=0
        fi
    fi
    [[ $MOUNTED -eq 0 ]] && rmdir "$MNT" 2>/dev/null
    [[ $MOUNTED -eq 0 ]] && rm -f "$IMG"
    local ns
    for ns in "${NS_CREATED[@]}"; do
        ip netns del "$ns" || log "could not delete namespace $ns"
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

load_line() { echo "$1: $(uptime)" >>"$OUTDIR/load.txt"; }
load_line before

# ----- our fdfs (the servers for ours; the load generator with LOADGEN=fdfs) ---------------------------
if [[ -n ${FDFS:-} ]]; then
    read -r -a FDFS_CMD <<<"$FDFS"
else
    BUILD_DIR="$OUTDIR/fdfs-build"
    log "publishing src/FastDfs.Cli (Release, Native AOT) into $BUILD_DIR"
    dotnet publish -c Release "$REPO/src/FastDfs.Cli" --artifacts-path "$BUILD_DIR" -nologo -v q \
        >"$OUTDIR/logs/build.txt" 2>&1 || die "publish failed, see $OUTDIR/logs/build.txt"
    FDFS_CMD=("$BUILD_DIR/publish/FastDfs.Cli/release/fdfs")
fi
command -v "${FDFS_CMD[0]}" >/dev/null || die "fdfs command not found: ${FDFS_CMD[*]}"
if [[ $LOADGEN == lean ]]; then
    LOAD_CMD=("$OUTDIR/fdfs_load")
    cc -O2 -pthread -o "$OUTDIR/fdfs_load" "$REPO/bench/loadgen/fdfs_load.c" -lz -ldl >"$OUTDIR/logs/loadgen-build.txt" 2>&1 ||
        die "building bench/loadgen/fdfs_load.c failed, see $OUTDIR/logs/loadgen-build.txt"
fi

{
    echo "kind: $KIND"
    echo "date: $(date -Is)"
    echo "sizes: ${SIZES[*]}"
    echo "clients: ${CLIENT_COUNTS[*]}"
    if [[ $LOADGEN == lean ]]; then echo "generator: bench/loadgen/fdfs_load.c"; else echo "generator: fdfs bench --io $BENCH_IO"; fi
    echo "fdfs: ${FDFS_CMD[*]}"
    echo "repo: $(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo '?')$([[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]] && echo ' (modified files)')"
    [[ $KIND == stock ]] && echo "stock: $STOCK_BIN_DIR/fdfs_trackerd, $STOCK_BIN_DIR/fdfs_storaged"
    echo "confs from: $STOCK_CONF_DIR"
    echo "namespaces: tracker $NS_T ($IP_T), storage $NS_S ($IP_S), generator $NS_C ($IP_C); image: $IMAGE_SIZE ext4"
    echo "machine: $(nproc) CPUs, $(uname -r), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2 / 1048576}' /proc/meminfo)"
} >"$OUTDIR/pass.txt"

# ----- network namespaces ----------------------------------------------------------------------------
ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
new_ns() { # NAME
    ip netns add "$1"
    NS_CREATED+=("$1")
    ip -n "$1" link set lo up
}
if [[ $HOSTS == 1 ]]; then
    if ns_exists "$NS_T"; then
        log "namespace $NS_T exists: using it"
        ip netns exec "$NS_T" ip -4 -o addr show | grep -q " $IP_T/" || die "namespace $NS_T has no address $IP_T"
    else
        new_ns "$NS_T"
        # A veth pair with both ends in the namespace: $IP_T is a local address of the host, so the traffic
        # takes the namespace's loopback path (stock refuses 127.0.0.1 as a tracker address).
        ip -n "$NS_T" link add eth0 type veth peer name eth1
        ip -n "$NS_T" addr add "$IP_T/24" dev eth0
        ip -n "$NS_T" link set eth1 up
        ip -n "$NS_T" link set eth0 up
        log "namespace $NS_T created ($IP_T)"
    fi
else
    # Three hosts on one switch: a bridge in $PREFIX-sw, a veth from each host's eth0 to it.
    for ns in "$PREFIX-sw" "$NS_T" "$NS_S" "$NS_C"; do
        ! ns_exists "$ns" || die "namespace $ns exists (left by an earlier pass? ip netns del $ns)"
    done
    new_ns "$PREFIX-sw"
    ip -n "$PREFIX-sw" link add br0 type bridge
    ip -n "$PREFIX-sw" link set br0 up
    for host in "t $IP_T" "s $IP_S" "c $IP_C"; do
        read -r h ip <<<"$host"
        new_ns "$PREFIX-$h"
        ip -n "$PREFIX-$h" link add eth0 type veth peer name "port-$h" netns "$PREFIX-sw"
        ip -n "$PREFIX-sw" link set "port-$h" master br0 up
        ip -n "$PREFIX-$h" addr add "$ip/24" dev eth0
        ip -n "$PREFIX-$h" link set eth0 up
    done
    log "namespaces $NS_T ($IP_T), $NS_S ($IP_S), $NS_C ($IP_C) on a bridge in $PREFIX-sw"
fi

# ----- fresh ext4 file system -----------------------------------------------------------------------
mkdir -p "$MNT"
truncate -s "$IMAGE_SIZE" "$IMG"
mkfs.ext4 -q -F "$IMG"
mount -o loop "$IMG" "$MNT"
MOUNTED=1
mkdir -p "$MNT/tracker" "$MNT/storage"
log "fresh ext4 ($IMAGE_SIZE) on $MNT"

# ----- confs: stock's samples with only the listed changes ------------------------------------------
edit_conf() { # SAMPLE OUT KEY=VALUE...: sets each key where the sample has it (first line; further lines dropped)
    local sample=$1 out=$2
    shift 2
    awk -v kv="$(printf '%s\n' "$@")" '
        BEGIN { n = split(kv, lines, "\n"); for (i = 1; i <= n; i++) if (lines[i] != "") {
                    p = index(lines[i], "="); k = substr(lines[i], 1, p - 1); want[k] = substr(lines[i], p + 1) } }
        {
            if (match($0, /^[ \t]*[A-Za-z0-9_.]+[ \t]*=/)) {
                key = $0; sub(/^[ \t]*/, "", key); sub(/[ \t]*=.*$/, "", key)
                if (key in want) {
                    if (!(key in done)) { print key " = " want[key]; done[key] = 1 }
                    next
                }
            }
            print
        }
        END { for (k in want) if (!(k in done)) { print "missing key " k > "/dev/stderr"; exit 3 } }
    ' "$sample" >"$out" || die "$sample lacks a key to change"
}
conf_value() { # FILE KEY -> value of the first non-comment line
    awk -v k="$2" '{ line = $0; sub(/^[ \t]*/, "", line) }
        line ~ "^" k "[ \t]*=" { sub(/^[^=]*=[ \t]*/, "", line); sub(/[ \t]*$/, "", line); print line; exit }' "$1"
}

TPORT=$(conf_value "$STOCK_CONF_DIR/tracker.conf" port)
TPORT=${TPORT:-22122}
edit_conf "$STOCK_CONF_DIR/tracker.conf" "$OUTDIR/conf/tracker.conf" \
    "base_path=$MNT/tracker" "reserved_storage_space=1%" "store_lookup=0"
edit_conf "$STOCK_CONF_DIR/storage.conf" "$OUTDIR/conf/storage.conf" \
    "base_path=$MNT/storage" "store_path0=$MNT/storage" "tracker_server=$IP_T:$TPORT" \
    "heart_beat_interval=5" "stat_report_interval=10"
SPORT=$(conf_value "$OUTDIR/conf/storage.conf" port)
SPORT=${SPORT:-23000}
{
    diff -u "$STOCK_CONF_DIR/tracker.conf" "$OUTDIR/conf/tracker.conf"
    diff -u "$STOCK_CONF_DIR/storage.conf" "$OUTDIR/conf/storage.conf"
} >"$OUTDIR/conf/changes.diff" || true
# other files a conf may name (mime.types, http.conf, storage_ids.conf) next to the samples
for f in "$STOCK_CONF_DIR"/*; do
    case "$(basename "$f")" in tracker.conf | storage.conf) ;; *) [[ -f $f ]] && cp "$f" "$OUTDIR/conf/" ;; esac
done

[[ -z $(ip netns exec "$NS_T" ss -Hltn "sport = :$TPORT") ]] || die "port $TPORT is already in use in $NS_T"
[[ -z $(ip netns exec "$NS_S" ss -Hltn "sport = :$SPORT") ]] || die "port $SPORT is already in use in $NS_S"

wait_listen() { # NAMESPACE PORT PID NAME
    local ns=$1 deadline=$((SECONDS + WAIT_TIMEOUT))
    shift
    until [[ -n $(ip netns exec "$ns" ss -Hltn "sport = :$1") ]]; do
        alive "$2" || die "$3 exited at startup (see $OUTDIR/logs)"
        ((SECONDS < deadline)) || die "$3 does not listen on port $1 after ${WAIT_TIMEOUT}s"
        sleep 0.2
    done
}

wait_pid_file() { # FILE NAME -> prints the pid
    local deadline=$((SECONDS + WAIT_TIMEOUT)) pid
    while :; do
        pid=$(cat "$1" 2>/dev/null || true)
        [[ -n $pid ]] && alive "$pid" && { echo "$pid"; return 0; }
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# ----- start the servers ----------------------------------------------------------------------------
if [[ $KIND == ours ]]; then
    ip netns exec "$NS_T" env ${SERVER_ENV:-} "${FDFS_CMD[@]}" tracker "$OUTDIR/conf/tracker.conf" >"$OUTDIR/logs/tracker.out" 2>&1 &
    TRACKER_PID=$!
    wait_listen "$NS_T" "$TPORT" "$TRACKER_PID" tracker
    ip netns exec "$NS_S" env ${SERVER_ENV:-} "${FDFS_CMD[@]}" storage "$OUTDIR/conf/storage.conf" >"$OUTDIR/logs/storage.out" 2>&1 &
    STORAGE_PID=$!
    wait_listen "$NS_S" "$SPORT" "$STORAGE_PID" storage
else
    STOCK_STARTED=1
    ip netns exec "$NS_T" "$STOCK_BIN_DIR/fdfs_trackerd" "$OUTDIR/conf/tracker.conf" >"$OUTDIR/logs/tracker.out" 2>&1 ||
        die "fdfs_trackerd failed to start (see $OUTDIR/logs)"
    TRACKER_PID=$(wait_pid_file "$MNT/tracker/data/fdfs_trackerd.pid" fdfs_trackerd) ||
        die "no running fdfs_trackerd after ${WAIT_TIMEOUT}s (see $MNT/tracker/logs)"
    wait_listen "$NS_T" "$TPORT" "$TRACKER_PID" fdfs_trackerd
    ip netns exec "$NS_S" "$STOCK_BIN_DIR/fdfs_storaged" "$OUTDIR/conf/storage.conf" >"$OUTDIR/logs/storage.out" 2>&1 ||
        die "fdfs_storaged failed to start (see $OUTDIR/logs)"
    STORAGE_PID=$(wait_pid_file "$MNT/storage/data/fdfs_storaged.pid" fdfs_storaged) ||
        die "no running fdfs_storaged after ${WAIT_TIMEOUT}s (see $MNT/storage/logs)"
    wait_listen "$NS_S" "$SPORT" "$STORAGE_PID" fdfs_storaged
fi
PIDS="$TRACKER_PID,$STORAGE_PID"
echo "pids: tracker $TRACKER_PID ($(cat /proc/$TRACKER_PID/comm)), storage $STORAGE_PID ($(cat /proc/$STORAGE_PID/comm))" >>"$OUTDIR/pass.txt"
log "$KIND tracker $TRACKER_PID and storage $STORAGE_PID listen on $IP_T:$TPORT / $IP_S:$SPORT"

bench_within() { # SECONDS OP ARGS...: the load generator in the generator's namespace, stopped after SECONDS
    local limit=$1
    shift
    if [[ $LOADGEN == lean ]]; then
        # fdfs_load takes the options of fdfs bench that the method uses (-n, --size, --duration/--count, ids, json)
        timeout --foreground -k 10 "$limit" ip netns exec "$NS_C" "${LOAD_CMD[@]}" "$@" --tracker "$IP_T:$TPORT"
    else
        timeout --foreground -k 10 "$limit" ip netns exec "$NS_C" "${FDFS_CMD[@]}" bench "$@" --io "$BENCH_IO" --tracker "$IP_T:$TPORT" --no-progress
    fi
}
bench() { bench_within "$CELL_TIMEOUT" "$@"; }

# ----- wait until an upload succeeds ----------------------------------------------------------------
deadline=$((SECONDS + WAIT_TIMEOUT))
until bench_within "$WAIT_TIMEOUT" upload --count 1 -n 1 --size 4KB >>"$OUTDIR/logs/ready.txt" 2>&1; do
    alive "$TRACKER_PID" && alive "$STORAGE_PID" || die "a server exited before it took an upload (see $OUTDIR/logs)"
    ((SECONDS < deadline)) || die "no successful upload after ${WAIT_TIMEOUT}s (see $OUTDIR/logs/ready.txt)"
    sleep 1
done
log "ready: an upload succeeded"

# ----- warm-up (not recorded) -----------------------------------------------------------------------
load_line start
if [[ $LOADGEN == lean ]]; then
    { bench upload --count 1000 -n 8 --size 4KB --save-ids "$OUTDIR/ids-warmup" &&
        bench download --count 2000 -n 8 --file-ids "$OUTDIR/ids-warmup"; } >"$OUTDIR/warmup.txt" 2>&1 ||
        log "warm-up had errors (see $OUTDIR/warmup.txt)"
else
    bench mixed --count 3000 -n 8 --size 4KB --files 50 >"$OUTDIR/warmup.txt" 2>&1 ||
        log "warm-up had errors (see $OUTDIR/warmup.txt)"
fi
log "warm-up done"

# ----- the cells ------------------------------------------------------------------------------------
FAILED=()
record_rss() { # OP SIZE C
    grep '^VmRSS:' "/proc/$STORAGE_PID/status" >"$OUTDIR/rss-$1-$2-$3.txt" 2>/dev/null ||
        echo "VmRSS: ? (storage gone)" >"$OUTDIR/rss-$1-$2-$3.txt"
}
summary() { # JSON -> one line
    python3 - "$1" 2>/dev/null <<'PY' || echo "(no result)"
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latencyMicros"]
cpu = r.get("server", {}).get("cpuMicrosPerOp", 0)
print("%.0f ops/s, %.1f MB/s, p50 %.2f ms, p99 %.2f ms, server CPU %.0f us/op, errors %d" % (
    r["opsPerSecond"], r["megabytesPerSecond"], lat["p50"] / 1000, lat["p99"] / 1000, cpu, r["errors"]))
PY
}

for size in "${SIZES[@]}"; do
    for c in "${CLIENT_COUNTS[@]}"; do
        for op in upload download; do
            alive "$TRACKER_PID" && alive "$STORAGE_PID" || die "a server exited during the pass (see $OUTDIR/logs)"
            read -r -a args <<<"$(cell_args "$op" "$size")"
            ids="$OUTDIR/ids-$size-$c"
            if [[ $op == upload ]]; then
                extra=(--save-ids "$ids")
            else
                if [[ ! -s $ids ]]; then
                    log "download $size x$c: skipped (no ids from the upload)"
                    FAILED+=("download-$size-$c (skipped)")
                    continue
                fi
                extra=(--file-ids "$ids")
            fi
            # The previous cell's dirty pages are written back now, not inside this cell (an upload cell of the
            # faster server would otherwise leave more of that work to the download cell after it).
            sync -f "$MNT" 2>/dev/null || sync
            rc=0
            bench "$op" --size "$size" -n "$c" "${args[@]}" "${extra[@]}" \
                --server-pid "$PIDS" --json "$OUTDIR/$op-$size-$c.json" >"$OUTDIR/$op-$size-$c.txt" 2>&1 || rc=$?
            record_rss "$op" "$size" "$c"
            ((rc == 0)) || FAILED+=("$op-$size-$c (exit $rc)")
            log "$op $size x$c: $(summary "$OUTDIR/$op-$size-$c.json")$( ((rc == 0)) || echo " [exit $rc]")"
        done
    done
done
load_line end

stop_servers
log "servers stopped"
if [[ ${#FAILED[@]} -gt 0 ]]; then
    log "cells with errors: ${FAILED[*]}"
    exit 1
fi
log "pass done: $OUTDIR"
