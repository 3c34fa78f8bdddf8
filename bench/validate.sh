#!/usr/bin/env bash
# Benchmarks `dplug validate` as a whole process against ajv-cli (npm) on the
# same schema and files: one config, and 1,000 configs in one call.
# Needs hyperfine (apt) and npm; installs ajv-cli into bench/out/node.
# Prints a Markdown table (also written to bench/out/validate.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: hyperfine missing: apt-get install -y hyperfine" >&2; exit 2; }

go build -trimpath $(scripts/gotags) -o bin/dplug ./cmd/dplug
if [ ! -x "$out/node/node_modules/.bin/ajv" ]; then
  echo "bench: installing ajv-cli@5.0.0 into $out/node" >&2
  npm install --silent --no-audit --no-fund --prefix "$out/node" ajv-cli@5.0.0 >/dev/null
fi
ajv="$out/node/node_modules/.bin/ajv"
schema=schemas/plugin-config.schema.json

# One realistic config in the canonical (dockerd-written) key case, so that
# both tools validate it fully and find it valid.
one="$out/one/config.json"
mkdir -p "$(dirname "$one")"
cat > "$one" <<'JSON'
{
  "Description": "sshfs plugin for Docker",
  "Documentation": "https://docs.docker.com/engine/extend/plugins/",
  "Entrypoint": ["/docker-volume-sshfs"],
  "Env": [{"Name": "DEBUG", "Settable": ["value"], "Value": "0", "Description": "debug logs"}],
  "Interface": {"Socket": "sshfs.sock", "Types": ["docker.volumedriver/1.0"]},
  "Linux": {"Capabilities": ["CAP_SYS_ADMIN"], "AllowAllDevices": false,
            "Devices": [{"Name": "fuse", "Path": "/dev/fuse", "Settable": null, "Description": ""}]},
  "Mounts": [{"Name": "state", "Source": "/var/lib/docker/plugins/", "Destination": "/mnt/state",
              "Type": "bind", "Options": ["rbind"], "Settable": ["source"], "Description": ""}],
  "Network": {"Type": "host"},
  "PropagatedMount": "/mnt/volumes",
  "Args": {"Name": "args", "Description": "", "Settable": ["value"], "Value": []},
  "WorkDir": "/"
}
JSON
many="$out/many"
if [ ! -d "$many" ] || [ "$(find "$many" -name config.json | wc -l)" != 1000 ]; then
  rm -rf "$many"
  for i in $(seq -w 1 1000); do
    mkdir -p "$many/p$i"
    sed "s/sshfs plugin for Docker/plugin $i/" "$one" > "$many/p$i/config.json"
  done
fi

./bin/dplug validate --strict "$one" >/dev/null
"$ajv" validate --spec=draft7 -s "$schema" -d "$one" >/dev/null 2>&1 || {
  echo "bench: ajv rejects the benchmark config; fix the config or the schema" >&2
  "$ajv" validate --spec=draft7 -s "$schema" -d "$one" >&2 || true
  exit 1
}

export_json() { hyperfine --style none -N --warmup 3 --export-json "$1" "${@:2}" >/dev/null; }
export_json "$out/one.json" --runs 30 \
  -n dplug "./bin/dplug validate $one" \
  -n ajv-cli "$ajv validate --spec=draft7 -s $schema -d $one"
export_json "$out/many.json" --runs 5 \
  -n dplug "./bin/dplug validate $many" \
  -n ajv-cli "$ajv validate --spec=draft7 -s $schema -d $many/*/config.json"

python3 - "$out/one.json" "$out/many.json" <<'PY' | tee "$out/validate.md"
import json, sys
def med(path):
    r = {x["command"]: x for x in json.load(open(path))["results"]}
    return r["dplug"]["median"], r["ajv-cli"]["median"]
print("| case | dplug (median) | ajv-cli (median) | dplug / ajv-cli |")
print("|---|---|---|---|")
for label, path in (("validate 1 config", sys.argv[1]), ("validate 1,000 configs, one call", sys.argv[2])):
    d, a = med(path)
    print(f"| {label} | {d*1000:.1f} ms | {a*1000:.1f} ms | {d/a:.3f}× ({a/d:.0f}× faster) |")
PY
