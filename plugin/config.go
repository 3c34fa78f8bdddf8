package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Config is a plugin's config.json as dockerd decodes it (moby
// api/types.PluginConfig). Field names match case-insensitively on decode,
// like encoding/json; unknown keys are dropped, as dockerd drops them.
type Config struct {
	Args            Args      `json:"Args"`
	Description     string    `json:"Description"`
	DockerVersion   string    `json:"DockerVersion,omitempty"`
	Documentation   string    `json:"Documentation"`
	Entrypoint      []string  `json:"Entrypoint"`
	Env             []Env     `json:"Env"`
	Interface       Interface `json:"Interface"`
	IpcHost         bool      `json:"IpcHost"`
	Linux           Linux     `json:"Linux"`
	Mounts          []Mount   `json:"Mounts"`
	Network         Network   `json:"Network"`
	PidHost         bool      `json:"PidHost"`
	PropagatedMount string    `json:"PropagatedMount"`
	User            User      `json:"User,omitempty"`
	WorkDir         string    `json:"WorkDir"`
	Rootfs          *Rootfs   `json:"rootfs,omitempty"`
}

// Args is the plugin's command-line arguments, appended to Entrypoint.
type Args struct {
	Description string   `json:"Description"`
	Name        string   `json:"Name"`
	Settable    []string `json:"Settable"`
	Value       []string `json:"Value"`
}

// Env is one environment variable. Only entries with a non-nil Value are
// passed to the plugin (as NAME=value), exactly like dockerd.
type Env struct {
	Description string   `json:"Description"`
	Name        string   `json:"Name"`
	Settable    []string `json:"Settable"`
	Value       *string  `json:"Value"`
}

// Interface declares what the plugin implements and where it listens.
type Interface struct {
	ProtocolScheme string   `json:"ProtocolScheme,omitempty"`
	Socket         string   `json:"Socket"`
	Types          []string `json:"Types"`
}

// Linux holds the Linux-specific privileges a plugin requests.
type Linux struct {
	AllowAllDevices bool     `json:"AllowAllDevices"`
	Capabilities    []string `json:"Capabilities"`
	Devices         []Device `json:"Devices"`
}

// Device is a device node made available to the plugin.
type Device struct {
	Description string   `json:"Description"`
	Name        string   `json:"Name"`
	Path        *string  `json:"Path"`
	Settable    []string `json:"Settable"`
}

// Mount is a mount made into the plugin's rootfs before it starts. A nil
// Source makes dockerd fail at enable ("mount source is not specified").
type Mount struct {
	Description string   `json:"Description"`
	Destination string   `json:"Destination"`
	Name        string   `json:"Name"`
	Options     []string `json:"Options"`
	Settable    []string `json:"Settable"`
	Source      *string  `json:"Source"`
	Type        string   `json:"Type"`
}

// Network selects the plugin's network namespace: only "host" shares the
// host's; any other non-empty value gets a fresh, empty namespace.
type Network struct {
	Type string `json:"Type"`
}

// User is parsed by dockerd but never applied: plugins run as uid 0.
type User struct {
	GID uint32 `json:"GID,omitempty"`
	UID uint32 `json:"UID,omitempty"`
}

// Rootfs is filled in by the engine (and by dplug's pack) with the layer
// digests of the plugin's rootfs.
type Rootfs struct {
	DiffIDs []string `json:"diff_ids"`
	Type    string   `json:"type,omitempty"`
}

// Settings are a plugin's current settable values (moby
// api/types.PluginSettings), kept in plugin-settings.json.
type Settings struct {
	Args    []string `json:"Args"`
	Devices []Device `json:"Devices"`
	Env     []string `json:"Env"`
	Mounts  []Mount  `json:"Mounts"`
}

// Parse decodes a config.json the way dockerd does: case-insensitive keys,
// unknown keys ignored. It does not validate; see package validate.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parsing plugin config: %w", err)
	}
	return &c, nil
}

// Marshal serialises c exactly as dockerd writes a plugin config blob:
// json.Encoder with HTML escaping and a trailing newline.
func (c *Config) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("encoding plugin config: %w", err)
	}
	return buf.Bytes(), nil
}

// DefaultSettings returns the settings a freshly installed plugin starts
// with, derived from its config as dockerd does on create/pull: env entries
// with a value, args values, mounts and devices as declared.
func (c *Config) DefaultSettings() Settings {
	s := Settings{
		Args:    append([]string(nil), c.Args.Value...),
		Mounts:  append([]Mount(nil), c.Mounts...),
		Devices: append([]Device(nil), c.Linux.Devices...),
	}
	for _, e := range c.Env {
		if e.Value != nil {
			s.Env = append(s.Env, e.Name+"="+*e.Value)
		}
	}
	return s
}

// InterfaceType is a parsed interface type such as docker.volumedriver/1.0.
type InterfaceType struct {
	Prefix, Capability, Version string
}

// String renders t as prefix.capability/version.
func (t InterfaceType) String() string {
	return t.Prefix + "." + t.Capability + "/" + t.Version
}

// ParseInterfaceType splits s the way moby does (prefix up to the last '.'
// before the first '/', version after it) but strictly: every part must be
// present, so that a malformed type is an error rather than garbage.
func ParseInterfaceType(s string) (InterfaceType, error) {
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return InterfaceType{}, fmt.Errorf("interface type %q has no version: want prefix.capability/version", s)
	}
	head, version := s[:slash], s[slash+1:]
	dot := strings.LastIndexByte(head, '.')
	if dot <= 0 || dot == len(head)-1 || version == "" {
		return InterfaceType{}, fmt.Errorf("interface type %q is malformed: want prefix.capability/version", s)
	}
	return InterfaceType{Prefix: head[:dot], Capability: head[dot+1:], Version: version}, nil
}

// Known interface types dockerd dispatches on.
const (
	TypeVolume          = "docker.volumedriver/1.0"
	TypeNetwork         = "docker.networkdriver/1.0"
	TypeIPAM            = "docker.ipamdriver/1.0"
	TypeAuthz           = "docker.authz/1.0"
	TypeLog             = "docker.logdriver/1.0"
	TypeMetrics         = "docker.metricscollector/1.0"
	TypeCSIController   = "docker.csicontroller/1.0"
	TypeCSINode         = "docker.csinode/1.0"
	TypeSecretProvider  = "docker.secretprovider/1.0"
	TypeGraphDriver     = "docker.graphdriver/1.0" // managed graph drivers: moby still recognises the type
	ProtocolSchemeHTTP1 = "moby.plugins.http/v1"
)

// KnownTypes lists every interface type moby knows, in a stable order:
// the types it dispatches on and the managed graph driver type. validate
// checks a config's types against it (and suggests the nearest one).
var KnownTypes = []string{TypeVolume, TypeNetwork, TypeIPAM, TypeAuthz, TypeLog,
	TypeMetrics, TypeCSIController, TypeCSINode, TypeSecretProvider, TypeGraphDriver}
