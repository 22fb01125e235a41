#!/usr/bin/env bash
# Installs what netctl needs on a Debian machine (as root) and builds it. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(iptables iproute2 busybox-static etcd-server dnsutils containernetworking-plugins python3 make g++)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's etcd-server unit must not run a system etcd on this host: tests start their own.
systemctl disable --now etcd >/dev/null 2>&1 || true
npm ci --no-fund --no-audit
npm run build
