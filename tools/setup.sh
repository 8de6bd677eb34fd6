#!/usr/bin/env bash
# Installs what building, testing and benchmarking need (`make bench` compares with ninja), and
# nothing else: Debian packages (with apt-get when run as root; otherwise prints the exact
# command and stops) and the pinned Nushell from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make g++ git pkg-config nlohmann-json3-dev libmsgpack-cxx-dev libtomlplusplus-dev libcpp-httplib-dev catch2 graphviz clang-14 libclang-rt-14-dev curl openssl etcd-server etcd-client ninja-build)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # npm/node may come from elsewhere than Debian; the command is what counts.
    case "$p" in cmake|make|g++|git) command -v "$p" >/dev/null 2>&1 && continue ;; esac
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: missing Debian packages. Install them, then run this again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# The pinned Nushell binaries (package-lock.json); reinstalled only when the lock changed.
stamp=node_modules/.provisioning-lock
if [[ ! -x node_modules/nushell/bin/nu ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing the pinned Nushell with npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
