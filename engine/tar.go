package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Source is a plugin to load: its config and its rootfs as uncompressed
// tar layers. *source.Source and every store.Source satisfy it.
type Source interface {
	ConfigJSON(ctx context.Context) ([]byte, error)
	Layers(ctx context.Context, fn func(tar io.Reader) error) error
}

// writeContext writes the build context `POST /plugins/create` takes — a
// tar of config.json and rootfs/ — re-headering the source's layer
// entries under rootfs/ as they stream by: no copy of the rootfs is made.
// A plugin artifact has one layer; a second layer overwrites the first's
// files, and a whiteout in it (a deletion, which a plain tar cannot say)
// is an error.
func writeContext(ctx context.Context, w io.Writer, src Source, config []byte) error {
	tw := tar.NewWriter(w)
	now := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Name: "config.json", Mode: 0o644, Size: int64(len(config)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(config); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "rootfs/", Mode: 0o755, ModTime: now, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	layer := 0
	err := src.Layers(ctx, func(r io.Reader) error {
		layer++
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading rootfs layer %d: %w", layer, err)
			}
			name, ok := rootfsPath(h.Name)
			if !ok {
				continue // the layer's root: rootfs/ is written above
			}
			if base := path.Base(name); strings.HasPrefix(base, ".wh.") {
				if layer > 1 {
					return fmt.Errorf("rootfs layer %d deletes %s (whiteout): a plugin for the Docker Engine needs one flattened rootfs; rebuild or pull it with dplug, which writes one layer", layer, h.Name)
				}
			}
			h.Name = name
			if h.Typeflag == tar.TypeLink {
				if h.Linkname, ok = rootfsPath(h.Linkname); !ok {
					return fmt.Errorf("rootfs entry %s is a hard link to the rootfs itself", h.Name)
				}
			}
			// PAX records may carry the old path; drop them, WriteHeader
			// rewrites what a long name needs.
			delete(h.PAXRecords, "path")
			delete(h.PAXRecords, "linkpath")
			if err := tw.WriteHeader(h); err != nil {
				return fmt.Errorf("writing rootfs entry %s: %w", h.Name, err)
			}
			if h.Typeflag == tar.TypeReg {
				if _, err := io.Copy(tw, tr); err != nil {
					return fmt.Errorf("streaming rootfs entry %s: %w", h.Name, err)
				}
			}
		}
	})
	if err != nil {
		return err
	}
	if layer == 0 {
		return errors.New("the plugin has no rootfs layer")
	}
	return tw.Close()
}

// rootfsPath maps a layer entry name to its place under rootfs/; ok is
// false for the layer's root itself.
func rootfsPath(name string) (string, bool) {
	dir := strings.HasSuffix(name, "/")
	clean := strings.TrimPrefix(path.Clean("/"+name), "/")
	if clean == "" {
		return "", false
	}
	p := "rootfs/" + clean
	if dir {
		p += "/"
	}
	return p, true
}
