#!/usr/bin/env bash
# mod_xml_rpc's tests drive a real browser: Debian's headless Chromium and its driver
# (Selenium is told the driver's path, so nothing is downloaded at test time).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
[ -f /tmp/.fsd-apt-updated ] || apt-get update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium chromium-driver
