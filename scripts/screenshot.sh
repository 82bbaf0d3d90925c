#!/usr/bin/env bash
# Takes the README's screenshot of leakwatch's status page.
#
# Builds leakwatch, runs `leakwatch demo` on a free loopback port, waits
# until the demo has restarted its leaking Web Bridge, seen it recover and
# seen its leak grow back to 10 (about 30 s at --speed 120, a minute at the
# default 60), photographs the status page with headless Chromium, and
# stops the demo.
#
# With --forecast it also waits until some bridge's forecast is known (two
# days of history after the demo's start: use a high --speed, e.g. 600).
#
# Usage: scripts/screenshot.sh [--speed N] [--out FILE] [--timeout SECONDS] [--forecast]
#
#   --speed N          simulated seconds per real second (default 60)
#   --out FILE         where the PNG goes (default docs/status-page.png)
#   --timeout SECONDS  give up when no recovery is seen by then (default 180)
#   --forecast         wait for a known forecast too
#
# Needs go, curl and chromium. Run as root, it installs a missing chromium
# with apt-get. Nothing listens beyond 127.0.0.1.
set -euo pipefail

speed=60
out=docs/status-page.png
timeout=180
forecast=

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "screenshot.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--speed) [ $# -ge 2 ] || die "--speed needs a value"; speed=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs a value"; timeout=$2; shift 2 ;;
	--forecast) forecast=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $timeout in '' | *[!0-9]*) die "--timeout $timeout: want whole seconds" ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	[ "$(id -u)" = 0 ] || die "chromium is not installed (apt-get install chromium)"
	echo "installing chromium..." >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2; } ||
		die "could not install chromium"
	chromium=$(command -v chromium) || die "chromium installed but not on PATH"
fi

work=$(mktemp -d)
demo_pid=
cleanup() {
	if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
		kill -INT "$demo_pid" 2>/dev/null || true
		wait "$demo_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building leakwatch..." >&2
go build -o "$work/leakwatch" ./cmd/leakwatch

# Port 0: the demo binds a free port itself and prints its URL, so no other
# program can take the port between choosing and binding it.
"$work/leakwatch" demo --speed "$speed" --web.listen-address 127.0.0.1:0 \
	--duration "$((timeout + 60))s" --log.level warn >"$work/demo.out" 2>&1 &
demo_pid=$!

deadline=$((SECONDS + timeout))
# wait_for DESCRIPTION COMMAND...: polls COMMAND every half second.
wait_for() {
	local what=$1
	shift
	until "$@"; do
		kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.out" >&2; die "the demo exited while waiting for $what"; }
		[ "$SECONDS" -lt "$deadline" ] || { cat "$work/demo.out" >&2; die "no $what within ${timeout}s"; }
		sleep 0.5
	done
	echo "$what after ${SECONDS}s" >&2
}

demo_url() {
	url=$(sed -n 's/^open \(http:\/\/127\.0\.0\.1:[0-9]*\/\) .*/\1/p' "$work/demo.out")
	[ -n "$url" ]
}
wait_for "the demo's URL" demo_url

# The restart has happened (and finished) when the ok counter is set and
# none is in flight; the bridge has recovered when no bridge is blocked for
# "recovering" any more and the audit log on the page shows the recovery.
restarted_and_recovered() {
	local metrics page
	metrics=$(curl -fsS --max-time 5 "${url}metrics") || return 1
	grep -Eq '^leakwatch_restarts_total\{result="ok",webbridge="[^"]+"\} [1-9]' <<<"$metrics" || return 1
	grep -q '^leakwatch_restart_in_progress 0$' <<<"$metrics" || return 1
	! grep -q '^leakwatch_restart_blocked{reason="recovering"' <<<"$metrics" || return 1
	page=$(curl -fsS --max-time 5 "$url") || return 1
	grep -q 'recovered' <<<"$page"
}
wait_for "a restart and its recovery" restarted_and_recovered

# Then let the leak grow back a little, so the page shows a proven leak next
# to the restart history (the restarted bridge starts again from zero).
leak_visible() {
	curl -fsS --max-time 5 "${url}metrics" |
		grep -Eq '^cms_webbridge_leaked_sessions_lower_bound\{webbridge="[^"]+"\} ([1-9][0-9]+)$'
}
wait_for "a proven leak of 10 or more after the recovery" leak_visible

known_forecast() {
	curl -fsS --max-time 5 "${url}metrics" |
		grep -Eq '^cms_webbridge_forecast_history_needed_seconds\{webbridge="[^"]+"\} 0$'
}
if [ -n "$forecast" ]; then
	wait_for "a known forecast" known_forecast
fi

mkdir -p "$(dirname "$out")"
rm -f "$out"
profile="$work/chromium-profile"
mkdir -p "$profile"
# --screenshot takes a relative path against the current folder; give it an
# absolute one.
case $out in /*) abs_out=$out ;; *) abs_out=$root/$out ;; esac
timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
	--no-first-run --disable-background-networking --disable-component-update \
	--disable-sync --hide-scrollbars --user-data-dir="$profile" \
	--window-size=1280,1400 --screenshot="$abs_out" "$url" >"$work/chromium.out" 2>&1 ||
	{ cat "$work/chromium.out" >&2; die "chromium failed"; }
[ -s "$abs_out" ] || { cat "$work/chromium.out" >&2; die "chromium wrote no $out"; }

kill -INT "$demo_pid"
wait "$demo_pid" || die "the demo did not stop cleanly: $(cat "$work/demo.out")"
demo_pid=
echo "wrote $out" >&2
