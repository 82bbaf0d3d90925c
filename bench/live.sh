#!/usr/bin/env bash
# live.sh: how much memory does `leakwatch run` use, and how soon does an
# appended Stats line show on /metrics, while a syslog file grows at 10,000
# lines a second? The same for mtail running bench/leakwatch.mtail.
#
# For each tool in turn (never both at once, so neither steals the other's
# CPU) it starts the tool on an empty file in a temporary directory, HTTP on
# 127.0.0.1 (port chosen by the kernel), then runs bench/linewriter for
# DURATION seconds: background lines at RATE a second plus a prober that
# appends a Web Bridge Stats line with a new session count and scrapes
# /metrics back to back until the value shows. Meanwhile it samples the
# tool's VmRSS from /proc every second. It prints per tool the RSS min,
# median and max, the growth from the second third of the run to the last
# third (medians), the CPU it used (share of one core over the run), the
# lines it read, the probe latency p50/p99/max, and the mtail/leakwatch
# ratios.
#
# Environment:
#   DURATION=60   seconds each tool is fed
#   RATE=10000    background lines per second
#   GO=go         go command
#   TOOLS="leakwatch mtail"   which tools to run
#   BASELINE=REV  also run leakwatch built from git revision REV, as the tool
#                 "baseline" (run first), and print leakwatch/baseline ratios:
#                 whether a change made the daemon slower, in the same run
set -euo pipefail

die() { echo "live.sh: $*" >&2; exit 1; }

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -- "$script_dir/.." && pwd)
[[ -f $repo/go.mod && -d $repo/cmd/leakwatch ]] || die "cannot find the repository root from $script_dir"

DURATION=${DURATION:-60}
RATE=${RATE:-10000}
GO=${GO:-go}
BASELINE=${BASELINE:-}
if [[ -n $BASELINE ]]; then TOOLS=${TOOLS:-baseline leakwatch mtail}; else TOOLS=${TOOLS:-leakwatch mtail}; fi
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION=$DURATION: want a positive integer (seconds)"
[[ $RATE =~ ^[0-9]+$ ]] || die "RATE=$RATE: want a non-negative integer"
if ! command -v "$GO" >/dev/null 2>&1; then
	if [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; else die "go not found (set GO=)"; fi
fi
for tool in curl awk sort; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
if [[ " $TOOLS " == *" mtail "* ]] && ! command -v mtail >/dev/null 2>&1; then
	die "mtail not found (Debian package mtail; or TOOLS=leakwatch)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-live.XXXXXX")
tool_pid=""
writer_pid=""
cleanup() {
	local pid
	for pid in $writer_pid $tool_pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $writer_pid $tool_pid; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building"
(cd "$repo" && "$GO" build -o "$work/leakwatch" ./cmd/leakwatch) || die "building ./cmd/leakwatch failed"
(cd "$repo" && "$GO" build -o "$work/linewriter" ./bench/linewriter) || die "building ./bench/linewriter failed"
if [[ " $TOOLS " == *" baseline "* ]]; then
	[[ -n $BASELINE ]] || die "TOOLS has baseline but BASELINE is not set"
	mkdir -p "$work/baseline-src"
	git -C "$repo" archive "$BASELINE" | tar -x -C "$work/baseline-src" || die "cannot export revision $BASELINE"
	(cd "$work/baseline-src" && "$GO" build -o "$work/baseline" ./cmd/leakwatch) || die "building $BASELINE failed"
	echo "   baseline: leakwatch at $(git -C "$repo" rev-parse --short "$BASELINE")"
fi

# wait_for WHAT SECONDS CMD...: run CMD every 0.1 s until it succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		[[ -n $tool_pid ]] && ! kill -0 "$tool_pid" 2>/dev/null && break
		sleep 0.1
	done
	die "timed out waiting for $what"
}

# listen_addr FILE REGEX: the first host:port that REGEX captures in FILE.
listen_addr() { sed -nE "s/$2/\\1/p" "$1" | head -1 | grep .; }

# start_tool NAME LOG: starts the tool on LOG, sets tool_pid and url.
start_tool() {
	local name=$1 log=$2 addr
	case $name in
	leakwatch | baseline)
		mkdir -p "$work/$name-state"
		cat >"$work/$name.yaml" <<-EOF
			timezone: UTC
			state_dir: $work/$name-state
			web:
			  listen_address: "127.0.0.1:0"
			inputs:
			  files:
			    paths: ["$log"]
			policy:
			  mode: observe
			  windows: ["Sat 02:00-04:00"]
		EOF
		"$work/$name" run --config "$work/$name.yaml" --log.level info 2>"$work/$name.err" &
		tool_pid=$!
		wait_for "leakwatch's listen address" 20 listen_addr "$work/$name.err" '.*msg="leakwatch running".* listen=\[?([0-9.]+:[0-9]+).*'
		addr=$(listen_addr "$work/$name.err" '.*msg="leakwatch running".* listen=\[?([0-9.]+:[0-9]+).*')
		url=http://$addr/metrics
		wait_for "leakwatch ready" 20 curl -fsS "http://$addr/-/ready"
		probe_label='webbridge="probe"'
		lines_series='leakwatch_lines_total{source="files"}'
		;;
	mtail)
		mtail --progs "$script_dir/leakwatch.mtail" --logs "$log" --address 127.0.0.1 --port 0 \
			--logtostderr 2>"$work/$name.err" &
		tool_pid=$!
		wait_for "mtail's listen address" 20 listen_addr "$work/$name.err" '.*Listening on ([0-9.]+:[0-9]+).*'
		addr=$(listen_addr "$work/$name.err" '.*Listening on ([0-9.]+:[0-9]+).*')
		url=http://$addr/metrics
		wait_for "mtail serving" 20 curl -fsS "$url"
		probe_label='host="probe",prog="leakwatch.mtail"'
		lines_series="mtail_log_lines_total{logfile=\"$log\"}"
		;;
	*) die "unknown tool $name" ;;
	esac
}

stop_tool() {
	kill -TERM "$tool_pid" 2>/dev/null || true
	wait "$tool_pid" 2>/dev/null || true
	tool_pid=""
}

# series_value URL SERIES: the value of SERIES (exact name and labels) on URL.
series_value() {
	# awk reads to the end: exiting early would make curl fail on a closed pipe.
	curl -fsS "$1" | awk -v s="$2" '!found && index($0, s " ") == 1 { print $2; found = 1 } END { if (!found) print "absent" }'
}

uptime_now() { uptime | sed -E 's/.*load average: //'; }

# cpu_ticks PID: user + system CPU time of PID in clock ticks.
cpu_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
clk_tck=$(getconf CLK_TCK)

: >"$work/summary"
for name in $TOOLS; do
	log=$work/$name.log
	: >"$log"
	echo "== $name: ${DURATION}s at $RATE lines/s (load before: $(uptime_now))"
	start_tool "$name" "$log"
	cpu0=$(cpu_ticks "$tool_pid")
	t0=$(date +%s.%N)
	"$work/linewriter" -out "$log" -rate "$RATE" -duration "${DURATION}s" \
		-probe-url "$url" -probe-label "$probe_label" >"$work/$name.writer" 2>"$work/$name.writer.err" &
	writer_pid=$!
	: >"$work/$name.rss"
	while kill -0 "$writer_pid" 2>/dev/null; do
		kill -0 "$tool_pid" 2>/dev/null || die "$name exited during the run: $(tail -5 "$work/$name.err")"
		awk '/^VmRSS:/ { print $2 }' "/proc/$tool_pid/status" >>"$work/$name.rss" 2>/dev/null || true
		sleep 1
	done
	wait "$writer_pid" || die "linewriter failed against $name: $(tail -5 "$work/$name.writer.err")"
	writer_pid=""
	sleep 1 # let the tool drain the last batch before counting its lines
	read_lines=$(series_value "$url" "$lines_series")
	cpu_pct=$(awk -v a="$cpu0" -v b="$(cpu_ticks "$tool_pid")" -v hz="$clk_tck" -v t0="$t0" -v t1="$(date +%s.%N)" \
		'BEGIN { printf "%.1f", 100 * (b - a) / hz / (t1 - t0) }')
	load=$(uptime_now)
	stop_tool
	written=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "lines") print kv[2] } }' "$work/$name.writer")
	echo "   writer: $(cat "$work/$name.writer")"
	echo "   $name read $read_lines lines (writer wrote $written background lines plus the probes), used $cpu_pct% of a core; load after: $load"
	sort -n "$work/$name.rss" | awk -v name="$name" -v writer="$(cat "$work/$name.writer")" -v cpu="$cpu_pct" '
		{ v[NR] = $1 }
		END {
			if (NR < 3) { print name " too few RSS samples" > "/dev/stderr"; exit 1 }
			printf "%s rss_min_mb=%.1f rss_median_mb=%.1f rss_max_mb=%.1f cpu_pct=%s %s\n",
				name, v[1] / 1024, v[int((NR + 1) / 2)] / 1024, v[NR] / 1024, cpu, writer
		}' >>"$work/summary"
	# Growth: median of the last third of the samples (in time order) minus
	# the median of the second third.
	awk -v name="$name" '
		function median(lo, hi,   n, i, j, t, a) {
			n = 0
			for (i = lo; i < hi; i++) a[++n] = v[i]
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return a[int((n + 1) / 2)]
		}
		{ v[NR - 1] = $1 }
		END {
			t = int(NR / 3)
			m2 = median(t, 2 * t); m3 = median(2 * t, NR)
			printf "%s growth_mb=%.2f growth_pct=%.1f second_third_mb=%.1f last_third_mb=%.1f samples=%d\n",
				name, (m3 - m2) / 1024, (m2 > 0 ? 100 * (m3 - m2) / m2 : 0), m2 / 1024, m3 / 1024, NR
		}' "$work/$name.rss" >>"$work/summary"
done

echo
awk '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); val[$1, kv[1]] = kv[2] } if (!($1 in tools)) order[++n] = $1; tools[$1] = 1 }
	END {
		printf "%-10s %8s %8s %8s %10s %10s %7s %9s %9s %9s %7s %9s\n", "tool", "RSS min", "median", "max", "growth MB", "growth %",
			"CPU %", "p50 ms", "p99 ms", "max ms", "probes", "scrape ms"
		for (k = 1; k <= n; k++) {
			t = order[k]
			printf "%-10s %8.1f %8.1f %8.1f %10.2f %10.1f %7.1f %9.2f %9.2f %9.2f %7d %9.2f\n", t, val[t, "rss_min_mb"], val[t, "rss_median_mb"],
				val[t, "rss_max_mb"], val[t, "growth_mb"], val[t, "growth_pct"], val[t, "cpu_pct"], val[t, "p50_ms"], val[t, "p99_ms"], val[t, "max_ms"],
				val[t, "probes"], val[t, "scrape_p50_ms"]
		}
		if (("leakwatch" in tools) && ("mtail" in tools)) {
			printf "\nmtail/leakwatch: median RSS %.2fx, CPU %.1fx, latency p50 %.1fx, p99 %.1fx\n",
				val["mtail", "rss_median_mb"] / val["leakwatch", "rss_median_mb"],
				val["mtail", "cpu_pct"] / val["leakwatch", "cpu_pct"],
				val["mtail", "p50_ms"] / val["leakwatch", "p50_ms"], val["mtail", "p99_ms"] / val["leakwatch", "p99_ms"]
		}
		if (("leakwatch" in tools) && ("baseline" in tools)) {
			printf "leakwatch/baseline: median RSS %.2fx, CPU %.2fx, latency p50 %.2fx, p99 %.2fx\n",
				val["leakwatch", "rss_median_mb"] / val["baseline", "rss_median_mb"],
				val["leakwatch", "cpu_pct"] / val["baseline", "cpu_pct"],
				val["leakwatch", "p50_ms"] / val["baseline", "p50_ms"], val["leakwatch", "p99_ms"] / val["baseline", "p99_ms"]
		}
	}' "$work/summary"
echo "(latency: write to the end of the first scrape showing the value; it includes up to one scrape, scrape ms is the median scrape)"
