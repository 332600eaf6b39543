#!/usr/bin/env bash
# Run minicloud on embedded defaults with a bootable image, from a clone of the
# repository on a Debian 12 machine with Go:
#   bash examples/run.sh [serve flags...]
# Installs QEMU and the test guest's build tools from Debian when missing (as root),
# builds ./minicloud, starts `minicloud serve`, and once it answers builds the
# cloud's own test guest from Debian packages and uploads it as the public image
# minicloud-guest (`minicloud image import`; about 30 s the first time, nothing the
# next). Ctrl-C stops minicloud; its guests keep running, as they would under systemd.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 qemu-utils dosfstools mtools syslinux syslinux-common fdisk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "run: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

go build -o minicloud .

# The data directory flag, if given, is what image import must use too.
datadir=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --data-dir) datadir=(--data-dir "${args[i+1]}") ;;
    --data-dir=*) datadir=("${args[i]}") ;;
  esac
done

./minicloud serve "$@" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid"' INT TERM

log=$(mktemp)
ok=
for _ in $(seq 50); do
  kill -0 "$pid" 2>/dev/null || exit 1
  if ./minicloud image import "${datadir[@]}" >/dev/null 2>"$log"; then ok=1; break; fi
  grep -q 'connect\|refused\|endpoint' "$log" || break   # not merely "not up yet"
  sleep 0.2
done
if [ -z "$ok" ]; then
  cat "$log" >&2
  echo "run: the test guest could not be imported; the cloud runs without it" >&2
else
  echo "run: image minicloud-guest is ready: eval \"\$(./minicloud openrc admin ${datadir[*]})\"; openstack server create --flavor m1.tiny --image minicloud-guest --wait vm1" >&2
fi
rm -f "$log"
wait "$pid"
