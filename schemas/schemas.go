package schemas

import _ "embed" // for go:embed

// PluginConfig is the JSON Schema of a plugin's config.json (moby
// api/types.PluginConfig), as printed by `dplug schema`.
//
//go:embed plugin-config.schema.json
var PluginConfig []byte

// PluginSettings is the JSON Schema of a plugin's plugin-settings.json (moby
// api/types.PluginSettings: the values `docker plugin set` changes).
//
//go:embed plugin-settings.schema.json
var PluginSettings []byte

// IDs under which the schemas publish themselves ($id), so that a config can
// point an editor at them with "$schema".
const (
	PluginConfigID   = "https://github.com/dplug/dplug/schemas/plugin-config.schema.json"
	PluginSettingsID = "https://github.com/dplug/dplug/schemas/plugin-settings.schema.json"
)
