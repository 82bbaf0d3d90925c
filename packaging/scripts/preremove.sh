#!/bin/sh
# preremove of leakwatch's .deb (prerm) and .rpm (%preun). Only a removal
# stops and disables the service; an upgrade keeps it running until
# postinstall restarts it on the new binary.
set -e
case "$1" in
  remove|purge|0)
    if [ -d /run/systemd/system ]; then
      systemctl stop leakwatch.service >/dev/null 2>&1 || true
    fi
    if command -v systemctl >/dev/null 2>&1; then
      systemctl --no-reload disable leakwatch.service >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
