package schemas

import (
	"encoding/json"
	"testing"
)

func TestEmbedded(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
		id   string
	}{
		{"plugin-config", PluginConfig, PluginConfigID},
		{"plugin-settings", PluginSettings, PluginSettingsID},
	} {
		var doc struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(tt.data, &doc); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if doc.Schema != "http://json-schema.org/draft-07/schema#" || doc.ID != tt.id || doc.Title == "" {
			t.Errorf("%s: $schema %q, $id %q, title %q", tt.name, doc.Schema, doc.ID, doc.Title)
		}
	}
}
