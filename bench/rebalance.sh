#!/usr/bin/env bash
# bench/rebalance.sh: move throughput of `fdfs rebalance` (docs/benchmarks.md, "Moving files between groups").
#
#   bench/rebalance.sh OUTDIR COUNT SIZE [PARALLEL]
#
# Starts a tracker (127.0.0.1) and two storages (group1 on 127.0.0.2, group2 on 127.0.0.3) of ours under OUTDIR (fresh folders; a fresh ext4
# when run as root with LOOP_MB set: a loop-mounted image of that many MB), uploads COUNT files of SIZE into group1
# with `fdfs bench upload` (kept), then moves them all to group2 with `fdfs rebalance --share 100%` and reports the
# mover's files/s and MB/s with the CPU seconds the mover, the tracker and both storages spent per moved file. Every
# process it started is stopped on exit.
#
# Environment: FDFS   command of our `fdfs` (default: dotnet publish -c Release src/FastDfs.Cli into OUTDIR/fdfs-build)
set -euo pipefail
out=${1:?OUTDIR}; count=${2:?COUNT}; size=${3:?SIZE}; parallel=${4:-4}
mkdir -p "$out"; out=$(cd "$out" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${FDFS:-}" ]]; then
    dotnet publish -c Release "$repo/src/FastDfs.Cli" -o "$out/fdfs-build" >/dev/null
    FDFS="$out/fdfs-build/fdfs"
fi

data="$out/data"
mounted=""
cleanup() {
    for role in storage2 storage1 tracker; do
        [[ -f "$out/$role.conf" ]] && "$FDFS" "${role%[12]}" "$out/$role.conf" stop >/dev/null 2>&1 || true
    done
    if [[ -n "$mounted" ]]; then umount "$data" || true; rm -f "$out/fs.img"; fi
}
trap cleanup EXIT
rm -rf "$data"; mkdir -p "$data"
if [[ -n "${LOOP_MB:-}" ]]; then
    truncate -s "${LOOP_MB}M" "$out/fs.img"; mkfs.ext4 -q "$out/fs.img"; mount -o loop "$out/fs.img" "$data"; mounted=1
fi

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tport=$(port)
mkdir -p "$data/tracker"
cat >"$out/tracker.conf" <<EOF
bind_addr = 127.0.0.1
port = $tport
base_path = $data/tracker
reserved_storage_space = 1%
EOF
for i in 1 2; do
    mkdir -p "$data/storage$i"
    cat >"$out/storage$i.conf" <<EOF
group_name = group$i
bind_addr = 127.0.0.$((i + 1))
port = $(port)
base_path = $data/storage$i
store_path0 = $data/storage$i
tracker_server = 127.0.0.1:$tport
EOF
done
"$FDFS" tracker "$out/tracker.conf" start >/dev/null
"$FDFS" storage "$out/storage1.conf" start >/dev/null
"$FDFS" storage "$out/storage2.conf" start >/dev/null
tracker_pid=$(cat "$data/tracker/data/fdfs_trackerd.pid")
storage_pids="$(cat "$data/storage1/data/fdfs_storaged.pid"),$(cat "$data/storage2/data/fdfs_storaged.pid")"
for _ in $(seq 120); do
    [[ $("$FDFS" monitor --tracker "127.0.0.1:$tport" 2>/dev/null | grep -c "ACTIVE") -ge 2 ]] && break
    sleep 0.5
done
[[ $("$FDFS" monitor --tracker "127.0.0.1:$tport" | grep -c "ACTIVE") -ge 2 ]] || { echo "the storages did not become ACTIVE" >&2; exit 1; }

"$FDFS" bench upload --tracker "127.0.0.1:$tport" --group group1 --size "$size" --count "$count" --concurrency 8 --no-progress >"$out/upload.txt"
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

cpu() { # utime+stime of the given pids, in clock ticks
    local total=0; for p in ${1//,/ }; do read -r -a f <"/proc/$p/stat"; total=$((total + f[13] + f[14])); done; echo $total; }
hz=$(getconf CLK_TCK)
tracker_before=$(cpu "$tracker_pid"); storages_before=$(cpu "$storage_pids")
/usr/bin/time -f "%e %U %S %M" -o "$out/mover-time.txt" \
    "$FDFS" rebalance group1 group2 --share 100% --parallel "$parallel" --journal "$out/move.journal" --tracker "127.0.0.1:$tport" | tee "$out/rebalance.txt"
tracker_cpu=$(( $(cpu "$tracker_pid") - tracker_before )); storages_cpu=$(( $(cpu "$storage_pids") - storages_before ))
read -r wall user sys rss <"$out/mover-time.txt"
summary=$(grep '^moved [0-9]* files (' "$out/rebalance.txt" | tail -1)
moved=$(awk '{print $2}' <<<"$summary"); move_seconds=$(grep -o 'in [0-9.]* s' <<<"$summary" | awk '{print $2}')
mbps=$(grep -o '[0-9.]* MB/s' <<<"$summary" | awk '{print $1}')
python3 - "$moved" "$move_seconds" "$mbps" "$wall" "$user" "$sys" "$rss" "$tracker_cpu" "$storages_cpu" "$hz" "$size" "$parallel" <<'EOF'
import sys
a = sys.argv
moved, move_s, mbps, wall, user, sys_ = int(a[1]), float(a[2]), float(a[3]), float(a[4]), float(a[5]), float(a[6])
rss, tracker, storages, hz, size, parallel = int(a[7]), int(a[8]), int(a[9]), int(a[10]), a[11], a[12]
us = lambda seconds: seconds / moved * 1e6
print("| size | files | parallel | move s | files/s | MB/s | whole command s | mover CPU µs/file | tracker CPU µs/file | storages CPU µs/file | mover peak RSS MB |")
print(f"| {size} | {moved} | {parallel} | {move_s:.1f} | {moved / move_s:.0f} | {mbps:.1f} | {wall:.1f} | "
      f"{us(user + sys_):.0f} | {us(tracker / hz):.0f} | {us(storages / hz):.0f} | {rss / 1024:.0f} |")
EOF
