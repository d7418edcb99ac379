#!/bin/sh
# The test command of the README: installs what the tests need, then runs them.
# - Dovecot (Debian package dovecot-imapd) for the live IMAP tests; the tests start their own
#   instance on 127.0.0.1 and never touch a system Dovecot.
# - the package with its test extras (pytest, aiosmtpd, hypothesis).
set -eu
cd "$(dirname "$0")/.."
if [ ! -x /usr/sbin/dovecot ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dovecot-imapd >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest "$@"
