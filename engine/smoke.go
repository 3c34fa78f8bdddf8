package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/moby/moby/client"
)

// Smoke uses an enabled plugin the way the engine's users do and says what
// it checked: a volume driver gets a volume created, inspected and removed
// through the engine; other types are only checked to be enabled (the
// engine reached their socket). `dplug test` probes every interface in
// depth, but needs Linux and the plugin run by dplug.
func (e *Engine) Smoke(ctx context.Context, name string) (string, error) {
	name, err := Name(name)
	if err != nil {
		return "", err
	}
	got, err := e.API.PluginInspect(ctx, name, client.PluginInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspecting %s: %w", name, err)
	}
	if !got.Plugin.Enabled {
		return "", fmt.Errorf("%s is not enabled", name)
	}
	var types []string
	for _, t := range got.Plugin.Config.Interface.Types {
		types = append(types, t.String())
	}
	if !slices.Contains(types, "docker.volumedriver/1.0") {
		return "enabled", nil
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	vol := "dplug-smoke-" + hex.EncodeToString(b)
	if _, err := e.API.VolumeCreate(ctx, client.VolumeCreateOptions{Name: vol, Driver: name}); err != nil {
		return "", fmt.Errorf("creating volume %s with %s: %w", vol, name, err)
	}
	if _, err := e.API.VolumeInspect(ctx, vol, client.VolumeInspectOptions{}); err != nil {
		_, _ = e.API.VolumeRemove(ctx, vol, client.VolumeRemoveOptions{Force: true})
		return "", fmt.Errorf("inspecting volume %s of %s: %w", vol, name, err)
	}
	if _, err := e.API.VolumeRemove(ctx, vol, client.VolumeRemoveOptions{}); err != nil {
		return "", fmt.Errorf("removing volume %s of %s: %w", vol, name, err)
	}
	return "volume ok", nil
}
