#!/usr/bin/env bash
# Installs what netctl needs on a Debian machine (as root) and builds it. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (it installs packages and netctl manages network namespaces)" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: netctl needs Node.js 20 or later (found: $(node --version 2>/dev/null || echo none)); install it, then run this again" >&2
  exit 1
fi
packages=(iptables iproute2 procps kmod busybox-static libseccomp-dev etcd-server dnsutils dnsperf containernetworking-plugins netavark aardvark-dns serf iperf3 iputils-ping python3 make g++)
missing=()
# docker.io: its CLI is a test oracle (it must work against netctl's socket), its dockerd the
# benchmark peer (run only inside test hosts; policy-rc.d below keeps the service from starting).
packages+=(docker.io)
# docker-compose (1.29): a client of the Docker API netctl serves, tested against it.
packages+=(docker-compose)
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
