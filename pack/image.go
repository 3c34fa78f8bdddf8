package pack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/validate"
)

// Image packs the plugin directory dir (config.json + rootfs/) into the
// registry artifact `docker plugin push` produces. The config is validated
// first (package validate): errors refuse the pack with a *validate.ConfigError,
// warnings are logged. The rootfs is read once, in a single streaming pass;
// the compressed layer is spooled to an unlinked temporary file which the
// returned image keeps open until it is garbage collected or closed (the
// image implements io.Closer).
func Image(ctx context.Context, dir string, opts ...Option) (v1.Image, error) {
	if err := checkPluginDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	img, err := imageFrom(ctx, path, data, filepath.Join(dir, "rootfs"), makeOptions(opts...))
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	return img, nil
}

// ImageFromRootfs is Image for a plugin whose config and rootfs are not laid
// out as a plugin directory, e.g. one installed in the local store.
func ImageFromRootfs(ctx context.Context, config []byte, rootfs string, opts ...Option) (v1.Image, error) {
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("packing %s: %w", rootfs, errNotPluginDir)
	}
	img, err := imageFrom(ctx, "config.json", config, rootfs, makeOptions(opts...))
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", rootfs, err)
	}
	return img, nil
}

func imageFrom(ctx context.Context, name string, data []byte, rootfs string, o *options) (v1.Image, error) {
	if err := checkConfig(name, data, o); err != nil {
		return nil, err
	}
	cfg, err := plugin.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.log.Debug("packing rootfs", "rootfs", rootfs, "level", o.level, "preserveTimes", o.preserveTimes)
	layer, err := packLayer(rootfs, o)
	if err != nil {
		return nil, err
	}
	img, err := newImage(cfg, layer)
	if err != nil {
		layer.Close()
		return nil, err
	}
	img.rootfs = rootfs
	o.log.Debug("packed rootfs", "digest", layer.digest, "diffID", layer.diffID, "size", layer.size)
	return img, nil
}

// checkConfig runs the validator on a config about to be packed.
func checkConfig(name string, data []byte, o *options) error {
	if !o.validate {
		return nil
	}
	diags := validate.Bytes(name, data, validate.WithKind(validate.KindConfig))
	_, warnings := validate.Split(diags)
	for _, d := range warnings {
		o.log.Warn(d.String())
	}
	return validate.NewConfigError(name, diags)
}

// pluginImage is the artifact built from a plugin directory.
type pluginImage struct {
	v1.Image
	layer  *spooledLayer
	rootfs string // where it was packed from
}

var _ io.Closer = (*pluginImage)(nil)

// Close releases the spooled layer; the image is unusable afterwards.
func (i *pluginImage) Close() error { return i.layer.Close() }

// imageCore implements partial.CompressedImageCore for one spooled layer.
type imageCore struct {
	config   []byte
	manifest []byte
	layer    *spooledLayer
}

func newImage(cfg *plugin.Config, layer *spooledLayer) (*pluginImage, error) {
	c := *cfg
	c.Rootfs = &plugin.Rootfs{Type: "layers", DiffIDs: []string{layer.diffID.String()}}
	config, err := c.Marshal()
	if err != nil {
		return nil, err
	}
	cd, _, err := v1.SHA256(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	manifest, err := marshalManifest(
		descriptor{MediaType: MediaTypeConfig, Digest: cd.String(), Size: int64(len(config))},
		[]descriptor{{MediaType: MediaTypeLayer, Digest: layer.digest.String(), Size: layer.size}},
	)
	if err != nil {
		return nil, err
	}
	img, err := partial.CompressedToImage(&imageCore{config: config, manifest: manifest, layer: layer})
	if err != nil {
		return nil, err
	}
	return &pluginImage{Image: img, layer: layer}, nil
}

func (c *imageCore) RawConfigFile() ([]byte, error)      { return c.config, nil }
func (c *imageCore) MediaType() (types.MediaType, error) { return MediaTypeManifest, nil }
func (c *imageCore) RawManifest() ([]byte, error)        { return c.manifest, nil }
func (c *imageCore) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == c.layer.digest {
		return c.layer, nil
	}
	return nil, fmt.Errorf("layer %s: %w", h, errNoSuchBlob)
}

var errNoSuchBlob = errors.New("no such blob in the plugin artifact")

// descriptor is a manifest descriptor with dockerd's field order.
type descriptor struct {
	MediaType types.MediaType `json:"mediaType"`
	Digest    string          `json:"digest"`
	Size      int64           `json:"size"`
}

// manifest is a Docker schema-2 manifest with dockerd's field order
// (mediaType last), so the bytes match what `docker plugin push` sends.
type manifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	Config        descriptor      `json:"config"`
	Layers        []descriptor    `json:"layers"`
	MediaType     types.MediaType `json:"mediaType"`
}

func marshalManifest(config descriptor, layers []descriptor) ([]byte, error) {
	return json.Marshal(manifest{SchemaVersion: 2, Config: config, Layers: layers, MediaType: MediaTypeManifest})
}
