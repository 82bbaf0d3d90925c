#!/usr/bin/env bash
# Compares the threshold and forecast plans on a simulated year.
#
# Writes a year of a four-Web-Bridge cluster with leaks of 0, 0.02, 0.1 and
# 0.5 sessions an hour (cmsloggen -limit lifts the bridges' own limit, so the
# logs show each leak as if nothing ever filled), replays it with
# `leakwatch replay --format json` under each plan, with the default guards
# and with flap_max 10, and prints the README's table from the what_if
# blocks: restarts, minutes at the limit, real sessions cut.
#
# Usage: bench/whatif.sh [WORKDIR]   (default: a temporary directory)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cd "$root"
go build -o "$work/cmsloggen" ./cmd/cmsloggen
go build -o "$work/leakwatch" ./cmd/leakwatch
"$work/cmsloggen" -duration 8760h -noise 0 -start 2026-01-05T00:00:00Z \
	-leak cms1=0,cms2=0.02,cms3=0.1,cms4=0.5 -limit 100000 -out "$work/year.log"
runs=()
for plan in threshold forecast; do
	for flap in default 10; do
		cfg="$work/$plan-$flap.yaml"
		if [ "$flap" = default ]; then
			cp "bench/whatif/$plan.yaml" "$cfg"
		else
			sed "s/^  max_per_day: 2$/  max_per_day: 2\n  flap_max: $flap/" "bench/whatif/$plan.yaml" >"$cfg"
		fi
		# The reference time is the log's start: it is one year-long file.
		"$work/leakwatch" replay --config "$cfg" --reference-time 2026-01-06T00:00:00Z --format json "$work/year.log" >"$work/$plan-$flap.json"
		runs+=("$plan-$flap")
	done
done
python3 - "$work" "${runs[@]}" <<'PY'
import json, sys
work, runs = sys.argv[1], sys.argv[2:]
rates = {"cms1": 0, "cms2": 0.02, "cms3": 0.1, "cms4": 0.5}
print("| bridge (leak/h) | " + " | ".join(r.replace("-default", ", default guards").replace("-10", ", flap_max 10") for r in runs) + " |")
print("|---|" + "---|" * len(runs))
res = {r: json.load(open(f"{work}/{r}.json"))["what_if"] for r in runs}
for b, rate in rates.items():
    cells = []
    for r in runs:
        w = res[r][b]
        cells.append(f"{w['restarts']} restarts, {w['minutes_at_limit']:.0f} min at limit, {w['real_sessions_cut']} cut")
    print(f"| {b} ({rate}) | " + " | ".join(cells) + " |")
tot = []
for r in runs:
    t = res[r].values()
    tot.append(f"**{sum(w['restarts'] for w in t)} restarts, {sum(w['minutes_at_limit'] for w in t):.0f} min, {sum(w['real_sessions_cut'] for w in t)} cut**")
print("| all | " + " | ".join(tot) + " |")
PY
