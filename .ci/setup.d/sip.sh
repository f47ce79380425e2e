#!/bin/sh
# mod_sofia_lite tests: SIPp (Debian package sip-tester) drives calls against the daemon.
set -e
command -v sipp >/dev/null 2>&1 && exit 0
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends sip-tester
