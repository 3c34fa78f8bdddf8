// Command diffplug is the smallest volume plugin the differential test
// needs: it listens on the socket path given as its first argument
// (creating the directory), answers the VolumeDriver protocol with
// directories under /data/volumes, and needs nothing but the standard
// library (a small static binary, so dozens of plugins stay cheap).
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
)

type request struct{ Name string }

func main() {
	sock := "/run/docker/plugins/diff.sock"
	if len(os.Args) > 1 {
		sock = os.Args[1]
	}
	if !filepath.IsAbs(sock) {
		sock = filepath.Join("/run/docker/plugins", sock)
	}
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "diffplug:", err)
		os.Exit(1)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diffplug:", err)
		os.Exit(1)
	}
	fmt.Println("diffplug: listening on", sock)
	answer := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/vnd.docker.plugins.v1+json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mountpoint := func(r *http.Request) (string, string) {
		var req request
		_ = json.NewDecoder(r.Body).Decode(&req)
		return req.Name, filepath.Join("/data/volumes", filepath.Base("/"+req.Name))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/Plugin.Activate", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"Implements": []string{"VolumeDriver"}})
	})
	mux.HandleFunc("/VolumeDriver.Create", func(w http.ResponseWriter, r *http.Request) {
		_, mp := mountpoint(r)
		if err := os.MkdirAll(mp, 0o755); err != nil {
			answer(w, map[string]string{"Err": err.Error()})
			return
		}
		answer(w, map[string]string{})
	})
	mux.HandleFunc("/VolumeDriver.Remove", func(w http.ResponseWriter, r *http.Request) {
		_, mp := mountpoint(r)
		_ = os.RemoveAll(mp)
		answer(w, map[string]string{})
	})
	for _, m := range []string{"/VolumeDriver.Mount", "/VolumeDriver.Path"} {
		mux.HandleFunc(m, func(w http.ResponseWriter, r *http.Request) {
			_, mp := mountpoint(r)
			answer(w, map[string]string{"Mountpoint": mp})
		})
	}
	mux.HandleFunc("/VolumeDriver.Get", func(w http.ResponseWriter, r *http.Request) {
		name, mp := mountpoint(r)
		if _, err := os.Stat(mp); err != nil {
			answer(w, map[string]string{"Err": "no such volume"})
			return
		}
		answer(w, map[string]any{"Volume": map[string]string{"Name": name, "Mountpoint": mp}})
	})
	mux.HandleFunc("/VolumeDriver.List", func(w http.ResponseWriter, r *http.Request) {
		vols := []map[string]string{}
		entries, _ := os.ReadDir("/data/volumes")
		for _, e := range entries {
			vols = append(vols, map[string]string{"Name": e.Name(), "Mountpoint": filepath.Join("/data/volumes", e.Name())})
		}
		answer(w, map[string]any{"Volumes": vols})
	})
	mux.HandleFunc("/VolumeDriver.Unmount", func(w http.ResponseWriter, r *http.Request) { answer(w, map[string]string{}) })
	mux.HandleFunc("/VolumeDriver.Capabilities", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"Capabilities": map[string]string{"Scope": "local"}})
	})
	_ = http.Serve(l, mux)
}
