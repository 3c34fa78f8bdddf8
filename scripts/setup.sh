#!/usr/bin/env bash
# Installs everything dplug's demo and tests need on a Debian 12 machine, as
# root, idempotently: runc, the distribution registry, dockerd (the interop
# oracle, plus dockerd 26 from trixie unpacked under
# /opt/dplug-engines/26), busybox-static (test base images), the arm64 C
# cross-compiler (make dist: linux/arm64 links libcontainer's nsenter, which
# is C, statically), and buildkitd built from the github.com/moby/buildkit
# version pinned in go.mod. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root (it installs Debian packages and buildkitd)" >&2
    exit 2
  fi
}

apt_pkgs=(runc docker-registry docker.io busybox-static ca-certificates iproute2 time curl python3 hyperfine qemu-user-static
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross zip file libdeflate-dev)
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

# A second Docker Engine for the interop tests: dockerd 26.1.5 with containerd
# 1.7.24 from Debian trixie, fetched with apt through a separate sources list
# (the system's apt state is not touched) and unpacked with dpkg-deb -x beside
# the system, never installed over it. runc stays bookworm's: trixie's needs
# glibc 2.38. See internal/testenv (Engines) for how the tests start it.
engine26_dir=/opt/dplug-engines/26
engine26_pins=(docker.io=26.1.5+dfsg1-9+deb13u1+b1 containerd=1.7.24~ds1-6+deb13u1)
engine26_stamp="$engine26_dir/.pins" # the pins it was fetched for; .versions: what it got
if [ ! -x "$engine26_dir/usr/sbin/dockerd" ] || [ "$(cat "$engine26_stamp" 2>/dev/null)" != "${engine26_pins[*]}" ]; then
  need_root
  # The Debian mirror apt already uses (deb822 URIs: or a one-line deb entry).
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' |
    grep -i debian | grep -v -- '-security' | head -1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
      grep -i debian | grep -v -- '-security' | head -1 || true)
  fi
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "setup: fetching dockerd 26 and containerd 1.7 from $mirror trixie into $engine26_dir" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$work/sources.list"
  trixie_apt=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  apt-get "${trixie_apt[@]}" update >/dev/null
  got=()
  for pin in "${engine26_pins[@]}"; do
    pkg=${pin%%=*}
    if ! (cd "$work/debs" && apt-get "${trixie_apt[@]}" download "$pin" >/dev/null 2>&1); then
      # The exact version is no longer served: take what trixie serves now, and say so.
      echo "setup: $pin is no longer served by trixie; taking its current $pkg" >&2
      (cd "$work/debs" && apt-get "${trixie_apt[@]}" download "$pkg" >/dev/null)
    fi
  done
  rm -rf "$engine26_dir.new"
  mkdir -p "$engine26_dir.new"
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$engine26_dir.new"
    got+=("$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)")
  done
  printf '%s\n' "${got[@]}" > "$engine26_dir.new/.versions"
  echo "${engine26_pins[*]}" > "$engine26_dir.new/.pins"
  rm -rf "$engine26_dir"
  mv "$engine26_dir.new" "$engine26_dir"
  rm -rf "$work"
  trap - EXIT
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
go build -trimpath $(scripts/gotags) -o bin/dplug ./cmd/dplug
echo "setup: ok (runc $(runc --version | head -1 | awk '{print $3}'), buildkitd $want, dockerd $(/usr/sbin/dockerd --version | awk '{print $3}' | tr -d ,) and $("$engine26_dir/usr/sbin/dockerd" --version | awk '{print $3}' | tr -d ,), $(bin/dplug --version))" >&2
