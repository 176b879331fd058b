#!/usr/bin/env bash
#
# Brings a checkout to the point where the app runs: Debian packages, npm
# dependencies (Node 24 included), .env and tmp/. Safe to run again; it only
# does what is missing. Sourced or run by scripts/dev.sh, scripts/test.sh and
# .ci/run.
#
#   bash scripts/setup.sh                    # the packages dev and tests need
#   bash scripts/setup.sh --with-postgresql  # plus PostgreSQL 15, as CI needs
#
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# redis-server: queues, presence, rate limits; chromium: browser tests;
# udev: udevadm, which serialport's list() runs; socat: pty pairs for
# RS-485 simulators; ffmpeg: camera streams; python3-pymodbus: a reference
# Modbus peer for the plugin tests, with python3-serial-asyncio, which its
# RTU server needs (a recommendation, left out by --no-install-recommends);
# curl and openssl: the documented way to sign a terminal call by hand,
# which a test runs.
setup_packages=(redis-server chromium udev socat ffmpeg python3-pymodbus python3-serial-asyncio curl openssl)
for setup_arg in "$@"; do
  case "$setup_arg" in
    --with-postgresql) setup_packages+=(postgresql) ;;
    *) echo "setup.sh: unknown option $setup_arg" >&2 && exit 2 ;;
  esac
done

setup_missing=()
for setup_package in "${setup_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$setup_package" 2>/dev/null | grep -q 'install ok installed'; then
    setup_missing+=("$setup_package")
  fi
done
if ((${#setup_missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "Missing Debian packages: ${setup_missing[*]}" >&2
    echo "Install them as root, then run this again:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${setup_missing[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${setup_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${setup_missing[@]}" >/dev/null
fi

# npm itself runs on the system Node 20 and warns about every package that
# wants Node 24 (which node_modules/.bin/node provides); those lines are noise.
if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing npm dependencies (npm ci)"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund 2>&1 |
    { grep -v 'npm warn EBADENGINE' || true; }
fi

# .env holds APP_KEY and passwords: readable by this account alone, also
# when an older setup wrote it for everyone.
if [[ ! -f .env ]]; then
  setup_key=$(node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))")
  (umask 077 && sed "s/^APP_KEY=.*/APP_KEY=$setup_key/" .env.example >.env)
  echo "Wrote .env with a fresh APP_KEY"
fi
chmod go= .env

mkdir -p tmp
