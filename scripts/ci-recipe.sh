#!/usr/bin/env bash
# The CI recipe (README "CI recipe", and what action.yml runs): validate the
# plugin project, then build it with whatever BuildKit there is — on a CI
# runner, the runner's Docker Engine (DOCKER_HOST or the docker context; no
# sudo, no buildkitd to compile) — and push it. Inputs, as environment:
#   DPLUG_CONTEXT        plugin project dir (config.json + Dockerfile); default .
#   DPLUG_REF            registry reference to push to; empty: build only, into
#                        DPLUG_OUT (default $RUNNER_TEMP/dplug-plugin or a temp dir)
#   DPLUG_PLATFORMS      comma-separated platforms (one plugin per platform)
#   DPLUG_VALIDATE_ONLY  true: validate and stop
#   DPLUG_BUILD_FLAGS    more `dplug build` flags, split on spaces
#                        (e.g. --build-arg GO_IMAGE=... --insecure)
#   DPLUG                the dplug binary (default: dplug on PATH)
# The build's JSON result is printed on stdout, and written to
# $GITHUB_OUTPUT as `result` when that is set.
set -euo pipefail
dplug=${DPLUG:-dplug}
ctx=${DPLUG_CONTEXT:-.}

echo "::group::dplug validate --strict $ctx" >&2
"$dplug" validate --strict "$ctx" >&2
echo "::endgroup::" >&2
if [ "${DPLUG_VALIDATE_ONLY:-false}" = true ]; then
  exit 0
fi

args=(build "$ctx" --progress plain -o json)
if [ -n "${DPLUG_REF:-}" ]; then
  args+=(--push "$DPLUG_REF")
else
  out=${DPLUG_OUT:-${RUNNER_TEMP:-$(mktemp -d)}/dplug-plugin}
  args+=(--output "dir=$out")
fi
if [ -n "${DPLUG_PLATFORMS:-}" ]; then
  args+=(--platform "$DPLUG_PLATFORMS")
fi
# shellcheck disable=SC2206 # word splitting is the point
args+=(${DPLUG_BUILD_FLAGS:-})

echo "::group::dplug ${args[*]}" >&2
result=$("$dplug" "${args[@]}")
echo "::endgroup::" >&2
printf '%s\n' "$result"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "result<<DPLUG_EOF"; printf '%s\n' "$result"; echo "DPLUG_EOF"; } >> "$GITHUB_OUTPUT"
fi
