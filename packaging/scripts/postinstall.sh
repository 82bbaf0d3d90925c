#!/bin/sh
# postinstall of leakwatch's .deb (postinst configure) and .rpm (%post).
set -e

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false

# The service's own system user: it owns the state directory and may read
# the config; it has no login and no home of its own.
if ! getent group leakwatch >/dev/null; then
  groupadd --system leakwatch
fi
if ! getent passwd leakwatch >/dev/null; then
  useradd --system --gid leakwatch --no-create-home --home-dir /var/lib/leakwatch \
    --shell "$nologin" --comment "leakwatch CMS Web Bridge leak monitor" leakwatch
fi

chown root:leakwatch /etc/leakwatch /etc/leakwatch/leakwatch.yaml
chmod 0750 /etc/leakwatch
chmod 0640 /etc/leakwatch/leakwatch.yaml
chown leakwatch:leakwatch /var/lib/leakwatch
chmod 0750 /var/lib/leakwatch

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  # An upgrade restarts a running leakwatch (and running leakwatch@
  # instances) on the new binary. A fresh
  # install does not start it: it needs your inputs and inventory first.
  systemctl try-restart leakwatch.service 'leakwatch@*.service' >/dev/null 2>&1 || true
fi
exit 0
