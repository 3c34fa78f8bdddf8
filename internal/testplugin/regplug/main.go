// Command regplug is a set of small plugins that behave the way real
// plugins do and that dplug once judged wrongly; `dplug test` must pass
// each of them. The mode is the first argument (config.json's entrypoint):
//
//	optvolume    a volume driver whose Create needs the option "sshcmd"
//	             (as vieux/sshfs does)
//	idemremove   a volume driver whose Remove of an unknown volume succeeds
//	             and whose Get of one answers no volume and no error
//	emptysource  an ordinary volume driver (its config has a settable bind
//	             mount with an empty source)
//	blockinglog  a log driver that opens the FIFO for reading blocking in
//	             StartLogging and prints what it reads
//	explicitipam an IPAM driver that needs an explicit subnet and address
//	denyauthz    an authorization plugin that denies everything
//
// It serves plain net/http on /run/docker/plugins/regplug.sock.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

const socket = "/run/docker/plugins/regplug.sock"

type request map[string]any

func (r request) str(k string) string { s, _ := r[k].(string); return s }

func (r request) opts(k string) map[string]any { m, _ := r[k].(map[string]any); return m }

// handler answers one method; a nil answer means 404.
type handler func(method string, req request) any

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	fmt.Println("regplug starting in mode", mode)
	var h handler
	switch mode {
	case "optvolume", "idemremove", "emptysource":
		h = newVolumes(mode).handle
	case "blockinglog":
		h = (&logs{files: map[string]*os.File{}}).handle
	case "explicitipam":
		h = explicitIPAM
	case "denyauthz":
		h = denyAuthz
	default:
		fmt.Fprintln(os.Stderr, "regplug: unknown mode", mode)
		os.Exit(2)
	}
	_ = os.MkdirAll(filepath.Dir(socket), 0o755)
	l, err := net.Listen("unix", socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "regplug:", err)
		os.Exit(1)
	}
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "{\"Err\":%q}\n", err.Error())
			return
		}
		a := h(strings.TrimPrefix(r.URL.Path, "/"), req)
		if a == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.docker.plugins.v1.2+json")
		_ = json.NewEncoder(w).Encode(a)
	}))
	fmt.Fprintln(os.Stderr, "regplug:", err)
	os.Exit(1)
}

type volumes struct {
	mode string
	mu   sync.Mutex
	vols map[string]bool
}

func newVolumes(mode string) *volumes { return &volumes{mode: mode, vols: map[string]bool{}} }

func (v *volumes) handle(method string, req request) any {
	v.mu.Lock()
	defer v.mu.Unlock()
	name := req.str("Name")
	missing := map[string]string{"Err": "volume " + name + " not found"}
	if v.mode == "idemremove" {
		missing = map[string]string{} // no error, no volume
	}
	mp := "/data/" + name
	switch method {
	case "Plugin.Activate":
		return map[string]any{"Implements": []string{"VolumeDriver"}}
	case "VolumeDriver.Capabilities":
		return map[string]any{"Capabilities": map[string]string{"Scope": "local"}}
	case "VolumeDriver.Create":
		if o := req.opts("Opts"); v.mode == "optvolume" && o["sshcmd"] == nil {
			return map[string]string{"Err": "sshcmd option required"}
		}
		if err := os.MkdirAll(mp, 0o755); err != nil {
			return map[string]string{"Err": err.Error()}
		}
		v.vols[name] = true
		return map[string]string{}
	case "VolumeDriver.Get":
		if !v.vols[name] {
			return missing
		}
		return map[string]any{"Volume": map[string]string{"Name": name, "Mountpoint": mp}}
	case "VolumeDriver.List":
		l := []map[string]string{}
		for n := range v.vols {
			l = append(l, map[string]string{"Name": n, "Mountpoint": "/data/" + n})
		}
		return map[string]any{"Volumes": l}
	case "VolumeDriver.Path", "VolumeDriver.Mount":
		if !v.vols[name] {
			return map[string]string{"Err": "volume " + name + " not found"}
		}
		return map[string]string{"Mountpoint": mp}
	case "VolumeDriver.Unmount":
		return map[string]string{}
	case "VolumeDriver.Remove":
		if !v.vols[name] {
			return missing // idemremove: removing what is not there succeeds
		}
		delete(v.vols, name)
		_ = os.RemoveAll(mp)
		return map[string]string{}
	}
	return nil
}

type logs struct {
	mu    sync.Mutex
	files map[string]*os.File
}

func (l *logs) handle(method string, req request) any {
	switch method {
	case "Plugin.Activate":
		return map[string]any{"Implements": []string{"LogDriver"}}
	case "LogDriver.Capabilities":
		return map[string]any{"Cap": map[string]bool{"ReadLogs": false}}
	case "LogDriver.StartLogging":
		file := req.str("File")
		// Blocking open for reading: returns once a writer holds the FIFO.
		f, err := os.OpenFile(file, os.O_RDONLY, 0)
		if err != nil {
			return map[string]string{"Err": err.Error()}
		}
		l.mu.Lock()
		l.files[file] = f
		l.mu.Unlock()
		go read(f)
		return map[string]string{}
	case "LogDriver.StopLogging":
		file := req.str("File")
		l.mu.Lock()
		f := l.files[file]
		delete(l.files, file)
		l.mu.Unlock()
		if f == nil {
			return map[string]string{"Err": "not logging to " + file}
		}
		f.Close()
		return map[string]string{}
	}
	return nil
}

// read prints each entry's line (protobuf field 3, the last one dockerd writes).
func read(f *os.File) {
	for {
		var n uint32
		if err := binary.Read(f, binary.BigEndian, &n); err != nil {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(f, msg); err != nil {
			return
		}
		if i := strings.LastIndexByte(string(msg), 0x1a); i >= 0 && i+2 <= len(msg) {
			fmt.Printf("regplug: log line: %s\n", msg[i+2:])
		}
	}
}

func explicitIPAM(method string, req request) any {
	switch method {
	case "Plugin.Activate":
		return map[string]any{"Implements": []string{"IpamDriver"}}
	case "IpamDriver.GetCapabilities":
		return map[string]bool{"RequiresMACAddress": false}
	case "IpamDriver.GetDefaultAddressSpaces":
		return map[string]string{"LocalDefaultAddressSpace": "regplug-local", "GlobalDefaultAddressSpace": "regplug-global"}
	case "IpamDriver.RequestPool":
		pool := req.str("Pool")
		if pool == "" {
			return map[string]string{"Error": "regplug: an explicit subnet is required"}
		}
		return map[string]string{"PoolID": "regplug/" + pool, "Pool": pool}
	case "IpamDriver.RequestAddress":
		pool := strings.TrimPrefix(req.str("PoolID"), "regplug/")
		_, ipnet, err := net.ParseCIDR(pool)
		if err != nil {
			return map[string]string{"Error": "regplug: unknown pool " + req.str("PoolID")}
		}
		bits, _ := ipnet.Mask.Size()
		addr := req.str("Address")
		if addr == "" {
			if req.opts("Options")["RequestAddressType"] != "com.docker.network.gateway" {
				return map[string]string{"Error": "regplug: an explicit address is required"}
			}
			ip := ipnet.IP.To4()
			addr = net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
		}
		return map[string]string{"Address": fmt.Sprintf("%s/%d", addr, bits)}
	case "IpamDriver.ReleaseAddress", "IpamDriver.ReleasePool":
		return map[string]string{}
	}
	return nil
}

func denyAuthz(method string, req request) any {
	switch method {
	case "Plugin.Activate":
		return map[string]any{"Implements": []string{"authz"}}
	case "AuthZPlugin.AuthZReq", "AuthZPlugin.AuthZRes":
		fmt.Printf("regplug: deny %s %s\n", req.str("RequestMethod"), req.str("RequestUri"))
		return map[string]any{"Allow": false, "Msg": "regplug: denied by default"}
	}
	return nil
}
