// Package schemas holds the JSON Schemas (draft-07) of a Docker Engine
// managed (v2) plugin's config.json and plugin-settings.json, embedded in the
// binary so that `dplug schema` can print them and editors can use them.
//
// The schemas describe moby's PluginConfig and PluginSettings field for
// field, keyed in moby's canonical case. dockerd itself decodes keys
// case-insensitively; package validate normalises key case before it applies
// these schemas, so a config written in the documented lowercase style is
// checked against the same rules.
//
// Embedding costs nothing at start-up: the files are plain byte slices, and
// nothing here is parsed or compiled until a caller asks for it.
package schemas
