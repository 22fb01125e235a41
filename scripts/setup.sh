#!/usr/bin/env bash
# Installs what netctl needs on a Debian machine (as root) and builds it. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(iptables iproute2 busybox-static etcd-server dnsutils containernetworking-plugins python3 make g++)
missing=()
# The Docker CLI is a test oracle (it must work against netctl's socket); dockerd is a benchmark peer.
command -v docker >/dev/null || packages+=(docker.io)
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their services (etcd, dockerd) on this host: tests start their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --no-fund --no-audit
npm run build
