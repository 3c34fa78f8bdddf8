package validate

import "testing"

// TestDockerdParity: DP100 exactly when dockerd's decoder fails, on the
// decoding corner cases (nulls, duplicate keys, odd numbers, wrong types).
func TestDockerdParity(t *testing.T) {
	configs := []string{
		`null`,
		`[]`,
		`"x"`,
		`{}`,
		`{"Description": null, "Entrypoint": null, "Interface": null, "Env": null, "Mounts": null, "Linux": null, "User": null}`,
		`{"IpcHost": "yes", "ipchost": true}`,
		`{"ipchost": true, "IpcHost": "yes"}`,
		`{"Env": [{"Value": 1}], "env": []}`,
		`{"Interface": {"Types": [1]}, "interface": {"types": ["docker.authz/1.0"], "socket": "a"}}`,
		`{"Mounts": [{"Source": 1}], "Mounts": [{"Source": "/a"}]}`,
		`{"User": {"UID": 1.0}}`,
		`{"User": {"UID": 1e2}}`,
		`{"User": {"UID": -0}}`,
		`{"User": {"UID": 4294967295, "GID": 0}}`,
		`{"User": {"UID": 4294967296}}`,
		`{"User": {"uid": 1, "UID": 1.5}}`,
		`{"Interface": {"Types": [null]}}`,
		`{"Interface": {"Types": ["weird", "docker.authz/1.0"]}}`,
		`{"Entrypoint": [null, 1]}`,
		`{"Entrypoint": [null]}`,
		`{"Linux": {"Capabilities": [null], "Devices": [null], "AllowAllDevices": null}}`,
		`{"Linux": {"Devices": [{"Path": 5}]}}`,
		`{"Args": []}`,
		`{"Args": {"Value": "a b"}}`,
		`{"Network": "host"}`,
		`{"rootfs": {"diff_ids": "x"}}`,
		`{"unknown": {"deep": [1, {"x": null}]}, "Description": 5}`,
		`{"Env": [{"Settable": "value"}]}`,
		`{"Env": [{"Settable": [null]}]}`,
		`{"Env": [null, {"Name": "A"}]}`,
		`{"Mounts": [1]}`,
		`{"Description": true}`,
		`{"PropagatedMount": [], "propagatedmount": "/x"}`,
		// Not a plugin config (DP007), yet a shadowed duplicate's wrong
		// type still fails dockerd's decoder (found by TestRandomConfigs).
		`{"ROOTFS": {"diff_ids": ["none", true]}, "rootfs": {"k": "none"}}`,
	}
	for _, c := range configs {
		checkParity(t, []byte(c), false, Bytes("config.json", []byte(c)))
	}
	settings := []string{
		`{}`,
		`null`,
		`{"Env": ["A=1", null], "Args": null}`,
		`{"Env": "A=1"}`,
		`{"Mounts": [{"Source": null}], "Devices": [{"Path": null}]}`,
		`{"Devices": {"Path": "/dev/fuse"}}`,
		`{"Args": [1]}`,
	}
	for _, s := range settings {
		checkParity(t, []byte(s), true, Bytes("plugin-settings.json", []byte(s)))
	}
}
