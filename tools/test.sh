#!/usr/bin/env bash
# Install what the tests need (system packages through .ci/setup.d, Python packages through
# pip) and run the whole suite.  Needs root (or sudo) for apt-get on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if [ ! -f /tmp/.fsd-apt-updated ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && touch /tmp/.fsd-apt-updated
fi
for script in .ci/setup.d/*.sh; do
  [ -e "$script" ] || continue
  echo "== $script"
  $SUDO bash "$script"
done
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
# Many tests drive real daemons, SIPp, Kamailio and PostgreSQL against each other on a
# 2-core machine; a test that fails is run again up to twice before it counts as failed,
# and every rerun is listed in the summary ("R"), so a flaky test stays visible.
exec python3 -m pytest -q --reruns 2 --reruns-delay 1 "$@"
