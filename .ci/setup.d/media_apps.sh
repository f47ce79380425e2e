#!/bin/sh
# Media applications: espeak-ng is the command-line TTS engine the speak tests use.
set -e
if ! command -v espeak-ng >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng
fi
