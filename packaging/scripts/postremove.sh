#!/bin/sh
# postremove of leakwatch's .deb (postrm) and .rpm (%postun). The state
# directory /var/lib/leakwatch (restart history, breakers, known_hosts,
# audit log) and the leakwatch user that owns it stay, even on purge: a
# reinstall must not forget a restart inside its cooldown or trust a host
# key again. Remove them by hand: rm -r /var/lib/leakwatch; userdel leakwatch.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
