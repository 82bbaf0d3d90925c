#!/bin/sh
# preremove of leakwatch's .deb (prerm) and .rpm (%preun). Only a removal
# stops and disables the service; an upgrade keeps it running until
# postinstall restarts it on the new binary.
set -e
# leakwatch@<cluster> instances too: their unit goes with the package.
case "$1" in
  remove|purge|0)
    if [ -d /run/systemd/system ]; then
      systemctl stop leakwatch.service 'leakwatch@*.service' >/dev/null 2>&1 || true
    fi
    if command -v systemctl >/dev/null 2>&1; then
      # disable takes no patterns: name each enabled instance.
      units=leakwatch.service
      for link in /etc/systemd/system/*.wants/leakwatch@*.service; do
        [ -L "$link" ] && units="$units ${link##*/}"
      done
      systemctl --no-reload disable $units >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
