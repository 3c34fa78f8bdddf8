#!/usr/bin/env bash
# make dist: release binaries of dplug in dist/ — linux, darwin and windows on
# amd64 and arm64 — plus dist/checksums.txt (sha256sum format). The same
# matrix as .goreleaser.yaml, with no tool but Go and a C compiler.
#
# Linux binaries link libcontainer's nsenter (C) statically: amd64 with the
# host's gcc, arm64 with aarch64-linux-gnu-gcc
# (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross). darwin and
# windows binaries are pure Go (no plugin runs there: install/run/test say
# they need Linux). Linux binaries also link libdeflate (faster install) where
# its static library is installed for that arch (scripts/gotags: Debian's
# libdeflate-dev, libdeflate-dev:arm64). VERSION defaults to `git describe`.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
out=${DIST:-dist}
rm -rf "$out"
mkdir -p "$out"
ldflags="-s -w -X github.com/dplug/dplug/cmd/dplug/cli.Version=$version"

build() { # GOOS GOARCH CGO CC
  local os=$1 arch=$2 cgo=$3 cc=${4:-} name="dplug_${version}_$1_$2" ext="" flags=$ldflags tags=""
  [ "$os" = windows ] && ext=.exe
  if [ "$cgo" = 1 ]; then
    command -v "$cc" >/dev/null || { echo "dist: $os/$arch needs the C compiler $cc (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2; return 1; }
    flags="$flags -linkmode external -extldflags -static"
    tags="netgo,osusergo"
    # libdeflate, linked statically, when this machine has it for that arch.
    [ -n "$(GOARCH=$arch scripts/gotags)" ] && tags="$tags,libdeflate"
  fi
  echo "dist: $os/$arch" >&2
  mkdir -p "$out/$name"
  CGO_ENABLED=$cgo CC=$cc GOOS=$os GOARCH=$arch go build -trimpath -tags "$tags" -ldflags "$flags" \
    -o "$out/$name/dplug$ext" ./cmd/dplug
  cp README.md "$out/$name/"
  if [ "$os" = linux ] && file "$out/$name/dplug" | grep -q 'dynamically linked'; then
    echo "dist: $out/$name/dplug is not static" >&2; return 1
  fi
  if [ "$os" = windows ]; then
    (cd "$out" && zip -qr "$name.zip" "$name")
  else
    tar -C "$out" -czf "$out/$name.tar.gz" "$name"
  fi
  rm -rf "${out:?}/$name"
}

build linux amd64 1 "${CC_LINUX_AMD64:-gcc}"
build linux arm64 1 "${CC_LINUX_ARM64:-aarch64-linux-gnu-gcc}"
build darwin amd64 0
build darwin arm64 0
build windows amd64 0
build windows arm64 0
(cd "$out" && sha256sum ./*.tar.gz ./*.zip | sed 's| \./| |' > checksums.txt)
cat "$out/checksums.txt"
