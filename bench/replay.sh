#!/usr/bin/env bash
# replay.sh: how fast does `leakwatch replay` read a busy cluster's syslog,
# compared with mtail running bench/leakwatch.mtail (the same numbers as
# gauges per host) and with `grep -c Stats` as a floor?
#
# It generates a log with cmd/cmsloggen (cached: regenerated only when the
# generator's sources, the size or the seed change), warms the page cache,
# then times each tool with GNU time and prints MB/s, max RSS and the
# leakwatch/mtail throughput ratio.
#
# Environment:
#   SIZE=300MB        log size (cmsloggen -size syntax)
#   SEED=1            cmsloggen seed
#   RUNS=1            runs per tool; the fastest is reported
#   BENCH_CACHE=...   cache directory (default ${XDG_CACHE_HOME:-~/.cache}/leakwatch-bench)
#   GO=go             go command
#   VERIFY=1          also check mtail's stats line counts against grep -E
#   CI=...            when set, a leakwatch that does not build is an error
#                     (otherwise it is skipped with a warning)
set -euo pipefail

die() { echo "replay.sh: $*" >&2; exit 1; }
warn() { echo "replay.sh: warning: $*" >&2; }

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -- "$script_dir/.." && pwd)
[[ -f $repo/go.mod && -d $repo/cmd/cmsloggen ]] || die "cannot find the repository root from $script_dir"

SIZE=${SIZE:-300MB}
SEED=${SEED:-1}
RUNS=${RUNS:-1}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leakwatch-bench}
GO=${GO:-go}
VERIFY=${VERIFY:-}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS=$RUNS: want a positive integer"

if ! command -v "$GO" >/dev/null 2>&1; then
	if [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; else die "go not found (set GO=)"; fi
fi
command -v mtail >/dev/null 2>&1 || die "mtail not found (Debian package mtail)"
[[ -x /usr/bin/time ]] && /usr/bin/time --version 2>&1 | grep GNU >/dev/null || die "GNU time not found at /usr/bin/time (Debian package time)"
for tool in grep awk sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

echo "== building"
(cd "$repo" && "$GO" build -o "$work/cmsloggen" ./cmd/cmsloggen) || die "building cmsloggen failed"
have_leakwatch=1
if ! (cd "$repo" && "$GO" build -o "$work/leakwatch" ./cmd/leakwatch) 2>"$work/leakwatch-build.txt"; then
	if [[ -n ${CI:-} ]]; then
		cat "$work/leakwatch-build.txt" >&2
		die "building ./cmd/leakwatch failed (CI is set)"
	fi
	warn "building ./cmd/leakwatch failed; timing mtail and grep only:"
	sed 's/^/    /' "$work/leakwatch-build.txt" >&2
	have_leakwatch=0
fi

# The cache key covers everything that decides the log's bytes.
key=$( (cd "$repo" && cat internal/sim/*.go cmd/cmsloggen/*.go; echo "$SIZE $SEED") | sha256sum | cut -c1-16)
mkdir -p -- "$BENCH_CACHE"
log=$BENCH_CACHE/cms-$SIZE-seed$SEED-$key.log
if [[ ! -s $log ]]; then
	echo "== generating $log"
	"$work/cmsloggen" -size "$SIZE" -seed "$SEED" -out "$log.tmp"
	mv -- "$log.tmp" "$log"
else
	echo "== using cached $log"
fi
bytes=$(stat -c %s -- "$log")
cat -- "$log" >/dev/null # warm the page cache so every tool reads from memory

# measure NAME CMD...: runs CMD RUNS times, stdout to $work/NAME.out, and
# appends "NAME seconds maxrss_kb" of the fastest run to $work/results.
measure() {
	local name=$1 best="" rss="" t r i
	shift
	for ((i = 1; i <= RUNS; i++)); do
		if ! /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
			sed 's/^/    /' "$work/$name.err" | tail -20 >&2
			die "$name failed"
		fi
		read -r t r <"$work/$name.time"
		if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$t rss=$r
		fi
	done
	echo "$name $best $rss" >>"$work/results"
}

echo "== timing $RUNS run(s) per tool on $bytes bytes"
: >"$work/results"
measure grep grep -c Stats "$log"
# mtail listens on HTTP even in one-shot mode: keep it on loopback, any port.
measure mtail mtail --progs "$script_dir/leakwatch.mtail" --logs "$log" --one_shot --one_shot_format=prometheus \
	--logtostderr --address 127.0.0.1 --port 0
if ((have_leakwatch)); then
	measure leakwatch "$work/leakwatch" replay --format json "$log"
fi

if [[ -n $VERIFY ]]; then
	want_wb=$(grep -cE ' "?webbridge"?: +INFO +: \[DEBUG(GING)?\] Stats [0-9]+, c:[0-9]+, d:[0-9]+$' "$log" || true)
	got_wb=$(awk -F' ' '/^cms_stats_lines_total\{kind="webbridge"/ { print $2 }' "$work/mtail.out")
	[[ $want_wb == "$got_wb" ]] || die "mtail counted $got_wb Web Bridge stats lines, grep -E $want_wb"
	echo "== verified: mtail matched all $got_wb Web Bridge stats lines"
fi

echo
awk -v bytes="$bytes" '
	{ name[NR] = $1; secs[NR] = $2; rss[NR] = $3 }
	END {
		printf "%-10s %9s %10s %12s\n", "tool", "seconds", "MB/s", "max RSS MB"
		for (i = 1; i <= NR; i++) {
			s = secs[i] > 0 ? secs[i] : 0.01
			mbps[name[i]] = bytes / 1e6 / s
			printf "%-10s %9.2f %10.1f %12.1f\n", name[i], secs[i], mbps[name[i]], rss[i] / 1024
		}
		if ("leakwatch" in mbps && "mtail" in mbps)
			printf "\nleakwatch/mtail throughput ratio: %.2f\n", mbps["leakwatch"] / mbps["mtail"]
	}' "$work/results"
echo "(grep -c Stats: $(cat "$work/grep.out") lines contain Stats; look-alikes included)"
if ((have_leakwatch)); then
	echo "(leakwatch replay wrote $(stat -c %s -- "$work/leakwatch.out") bytes of JSON)"
fi
