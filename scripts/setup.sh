#!/usr/bin/env bash
# Installs everything dplug's demo and tests need on a Debian 12 machine, as
# root, idempotently: runc, the distribution registry, dockerd (the interop
# oracle), busybox-static (test base images), and buildkitd built from the
# github.com/moby/buildkit version pinned in go.mod. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root (it installs Debian packages and buildkitd)" >&2
    exit 2
  fi
}

apt_pkgs=(runc docker-registry docker.io busybox-static ca-certificates iproute2 time curl python3 hyperfine qemu-user-static)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root
  echo "setup: installing ${missing[*]}" >&2
  # Never let package scripts start system daemons (dockerd, registry): tests start their own on loopback.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# buildkitd at exactly the version go.mod pins (a `tool` dependency).
want=$(go list -m -f '{{.Version}}' github.com/moby/buildkit)
mkdir -p bin
stamp=bin/.buildkitd-version
if [ ! -x bin/buildkitd ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: building buildkitd $want (pinned in go.mod; takes a few minutes the first time)" >&2
  go build -trimpath -o bin/buildkitd github.com/moby/buildkit/cmd/buildkitd
  echo "$want" > "$stamp"
fi
if [ "$(id -u)" = 0 ]; then
  if ! cmp -s bin/buildkitd /usr/local/bin/buildkitd 2>/dev/null; then
    install -m 0755 bin/buildkitd /usr/local/bin/buildkitd
  fi
fi

echo "setup: building dplug" >&2
go build -trimpath -o bin/dplug ./cmd/dplug
echo "setup: ok (runc $(runc --version | head -1 | awk '{print $3}'), buildkitd $want, $(bin/dplug --version))" >&2
