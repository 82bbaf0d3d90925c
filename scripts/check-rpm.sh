#!/usr/bin/env bash
# Checks the .rpm that scripts/package.sh built without installing it
# (this is Debian): it must hold the same files as the .deb, mark the
# config as a config file, and carry the three scripts.
#
# Usage: scripts/check-rpm.sh    (the one .rpm and .deb in dist/)
#
# Needs rpm and dpkg-deb.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-rpm: FAIL: $*" >&2; exit 1; }
rpms=(dist/leakwatch-*.rpm) debs=(dist/leakwatch_*.deb)
[ ${#rpms[@]} = 1 ] && [ -f "${rpms[0]}" ] || fail "want exactly one dist/leakwatch-*.rpm (run scripts/package.sh)"
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "want exactly one dist/leakwatch_*.deb (run scripts/package.sh)"
rpm=${rpms[0]} deb=${debs[0]}

# The .deb lists every parent folder (./usr/, ./usr/bin/); the .rpm only
# those it owns. Compare files and the folders leakwatch owns.
from_deb=$(dpkg-deb -c "$deb" | awk '{p = substr($6, 2); sub("/$", "", p)}
  $1 ~ /^-/ || p == "/etc/leakwatch" || p == "/var/lib/leakwatch" {print p}' | sort)
from_rpm=$(rpm -qpl "$rpm" | sort)
[ "$from_deb" = "$from_rpm" ] || fail "the .rpm and .deb hold different files:
$(diff <(echo "$from_deb") <(echo "$from_rpm"))"
[ "$(rpm -qp --configfiles "$rpm")" = /etc/leakwatch/leakwatch.yaml ] ||
  fail "config files: $(rpm -qp --configfiles "$rpm" | tr '\n' ' '), want /etc/leakwatch/leakwatch.yaml"
scripts=$(rpm -qp --scripts "$rpm")
for s in postinstall preuninstall postuninstall; do
  grep -q "^$s scriptlet" <<<"$scripts" || fail "no $s scriptlet"
done
echo "check-rpm: ok ($rpm)"
