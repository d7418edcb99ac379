#!/bin/sh
# The test command of the README: installs what the tests need, then runs them.
# - Dovecot (Debian package dovecot-imapd) for the live IMAP tests; the tests start their own
#   instance on 127.0.0.1 and never touch a system Dovecot.
# - systemd-analyze and man (Debian systemd, man-db) to verify the unit files and that their
#   Documentation= man page is found once installed.
# - the package with its test extras (pytest, aiosmtpd, hypothesis).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
optional=""
command -v systemd-analyze >/dev/null 2>&1 || optional="$optional systemd"
command -v man >/dev/null 2>&1 || optional="$optional man-db"
if [ ! -x /usr/sbin/dovecot ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd >/dev/null
    updated=1
fi
if [ -n "$optional" ]; then      # without them the unit-file tests are skipped, not failed
    [ -n "${updated:-}" ] || $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $optional >/dev/null 2>&1 || true
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest "$@"
