#!/usr/bin/env bash
# Installs the .deb that scripts/package.sh built, checks what an operator
# relies on, removes it, purges it, and checks that nothing but the state
# directory (and the leakwatch user that owns it) stays.
#
# Usage: scripts/check-deb.sh [DEB]    (default: the one .deb in dist/)
#
# Needs root, dpkg and systemd-analyze. Refuses to run where leakwatch is installed or its
# state directory exists; it leaves the machine as it found it.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
deb=${1:-}
if [ -z "$deb" ]; then
  debs=(dist/leakwatch_*.deb)
  [ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "want exactly one dist/leakwatch_*.deb (run scripts/package.sh), found: ${debs[*]}"
  deb=${debs[0]}
fi
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
# One check at a time on a machine: two would install the same package.
exec 9>/run/lock/leakwatch-check-deb.lock
flock --timeout 900 9 || fail "another check-deb.sh has held /run/lock/leakwatch-check-deb.lock for 15 minutes"
dpkg -s leakwatch >/dev/null 2>&1 && fail "leakwatch is installed here already; not touching it"
[ -e /var/lib/leakwatch ] && fail "/var/lib/leakwatch exists already; not touching it"
had_user=no
getent passwd leakwatch >/dev/null && had_user=yes

# What is on disk where a package puts things. passwd, group and shadow
# change by design (the user stays); dpkg's own database changes anyway.
snapshot() {
  find /etc /usr /opt /var/lib -xdev \
    \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd -o -path /usr/local/go \
       -o -path /etc/passwd -o -path /etc/passwd- -o -path /etc/group -o -path /etc/group- \
       -o -path /etc/shadow -o -path /etc/shadow- -o -path /etc/gshadow -o -path /etc/gshadow- \) -prune \
    -o -print 2>/dev/null | sort
}
before=$(mktemp) after=$(mktemp) log=$(mktemp)
cleanup() {
  rm -f "$before" "$after" "$log"
  if dpkg -s leakwatch >/dev/null 2>&1; then dpkg --purge leakwatch >/dev/null 2>&1 || true; fi
  rm -rf /var/lib/leakwatch
  rm -f /etc/systemd/system/*.wants/leakwatch.service /etc/systemd/system/*.wants/leakwatch@cms-a.service
  if [ $had_user = no ] && getent passwd leakwatch >/dev/null; then userdel leakwatch; fi
  if [ $had_user = no ] && getent group leakwatch >/dev/null; then groupdel leakwatch; fi
}
trap cleanup EXIT
snapshot >"$before"

echo "== dpkg -i $deb"
dpkg -i "$deb"

echo "== the leakwatch system user"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd leakwatch) || fail "no leakwatch user"
[ "$uid" -lt 1000 ] || fail "leakwatch has uid $uid, not a system uid"
[ "$(getent group leakwatch | cut -d: -f3)" = "$gid" ] || fail "leakwatch's primary group is not leakwatch"
case "$shell" in */nologin|/bin/false) ;; *) fail "leakwatch has the login shell $shell" ;; esac
[ "$home" = /var/lib/leakwatch ] || fail "leakwatch's home is $home"

echo "== paths, owners and modes"
want() { # PATH OWNER:GROUP MODE
  [ -e "$1" ] || fail "$1 is missing"
  got=$(stat -c '%U:%G %a' "$1")
  [ "$got" = "$2 $3" ] || fail "$1 is $got, want $2 $3"
}
want /usr/bin/leakwatch root:root 755
want /usr/lib/systemd/system/leakwatch.service root:root 644
want /usr/lib/systemd/system/leakwatch.service.d/package.conf root:root 644
want /etc/leakwatch root:leakwatch 750
want /etc/leakwatch/leakwatch.yaml root:leakwatch 640
want /var/lib/leakwatch leakwatch:leakwatch 750
want /usr/share/doc/leakwatch/README.md root:root 644
dpkg-query -W -f='${Conffiles}\n' leakwatch | grep -q '^ /etc/leakwatch/leakwatch.yaml ' ||
  fail "/etc/leakwatch/leakwatch.yaml is not a conffile"
version=$(dpkg-query -W -f='${Version}' leakwatch)
leakwatch version | grep -qF "$version" || fail "leakwatch version does not say $version: $(leakwatch version)"

echo "== systemd-analyze verify (the unit with the package's drop-in)"
# It names every unknown key, bad value and missing program with the unit's
# path; messages about a systemd that is not running are fine.
systemd-analyze verify /usr/lib/systemd/system/leakwatch.service >"$log" 2>&1 ||
  { cat "$log"; fail "systemd-analyze verify failed"; }
if grep -i 'leakwatch' "$log"; then fail "systemd-analyze finds fault with the unit"; fi

echo "== leakwatch check --config /etc/leakwatch/leakwatch.yaml (as root, then as leakwatch)"
leakwatch check --config /etc/leakwatch/leakwatch.yaml
runuser -u leakwatch -- leakwatch check --config /etc/leakwatch/leakwatch.yaml >/dev/null ||
  fail "the leakwatch user cannot use its own config"

echo "== leakwatch run as the leakwatch user, with the shipped config"
# setpriv execs leakwatch itself, so the signal reaches it (runuser would
# stand between and kill it).
setpriv --reuid leakwatch --regid leakwatch --init-groups leakwatch run --config /etc/leakwatch/leakwatch.yaml \
  --web.listen-address 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q 'msg="ready' "$log" && break; sleep 0.2; done
grep -q 'msg="ready' "$log" || { cat "$log"; kill "$pid" 2>/dev/null; fail "leakwatch run did not get ready"; }
kill -TERM "$pid"
wait "$pid" || { cat "$log"; fail "leakwatch run did not stop cleanly on SIGTERM"; }
[ -n "$(ls -A /var/lib/leakwatch)" ] || fail "leakwatch run wrote nothing to its state directory"

# Enabled units leave symlinks in /etc/systemd/system that the removal
# must take away (checked by the listing below); systemctl works on the
# files without a running systemd.
systemctl enable leakwatch.service leakwatch@cms-a.service
ls /etc/systemd/system/multi-user.target.wants/leakwatch@cms-a.service >/dev/null ||
  fail "systemctl enable did not enable leakwatch@cms-a"

echo "== dpkg -r: the binary and unit go, the edited config stays"
echo "# edited by the operator" >>/etc/leakwatch/leakwatch.yaml
dpkg -r leakwatch
for p in /usr/bin/leakwatch /usr/lib/systemd/system/leakwatch.service /usr/lib/systemd/system/leakwatch.service.d \
  /usr/lib/systemd/system/leakwatch@.service /etc/systemd/system/multi-user.target.wants/leakwatch.service \
  /etc/systemd/system/multi-user.target.wants/leakwatch@cms-a.service; do
  [ ! -e "$p" ] || fail "$p is left after dpkg -r"
done
grep -q 'edited by the operator' /etc/leakwatch/leakwatch.yaml || fail "dpkg -r lost the operator's config"

echo "== dpkg --purge: nothing stays but the state directory"
dpkg --purge leakwatch
[ -d /var/lib/leakwatch ] && [ -n "$(ls -A /var/lib/leakwatch)" ] || fail "the state directory did not survive the purge"
snapshot >"$after"
extra=$(comm -13 "$before" "$after" | grep -v '^/var/lib/leakwatch\(/\|$\)' || true)
[ -z "$extra" ] || fail "left after purge: $extra"
missing=$(comm -23 "$before" "$after" || true)
[ -z "$missing" ] || fail "gone after install and purge: $missing"
getent passwd leakwatch >/dev/null || fail "purge removed the leakwatch user that owns the state directory"
echo "check-deb: ok ($deb)"
