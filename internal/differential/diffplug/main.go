// Command diffplug is the smallest volume plugin the differential test
// needs: it listens on the socket path given as its first argument
// (creating the directory), answers the VolumeDriver protocol with
// directories under /data/volumes, and speaks just enough HTTP/1.1 by hand
// to stay a ~1 MB static binary, so that dozens of plugins stay cheap to
// create.
package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const volumes = "/data/volumes"

func main() {
	sock := "/run/docker/plugins/diff.sock"
	if len(os.Args) > 1 {
		sock = os.Args[1]
	}
	if !filepath.IsAbs(sock) {
		sock = filepath.Join("/run/docker/plugins", sock)
	}
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		os.Stderr.WriteString("diffplug: " + err.Error() + "\n")
		os.Exit(1)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		os.Stderr.WriteString("diffplug: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("diffplug: listening on " + sock + "\n")
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}

// serve answers the requests on one connection until it closes.
func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return
		}
		n := 0
		for {
			h, err := r.ReadString('\n')
			if err != nil {
				return
			}
			h = strings.TrimSpace(h)
			if h == "" {
				break
			}
			if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, n)
		if _, err := readFull(r, body); err != nil {
			return
		}
		out := answer(f[1], string(body))
		resp := "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.plugins.v1+json\r\nContent-Length: " +
			strconv.Itoa(len(out)) + "\r\n\r\n" + out
		if _, err := c.Write([]byte(resp)); err != nil {
			return
		}
	}
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// answer returns the JSON answer to a request for path with body.
func answer(path, body string) string {
	name := nameOf(body)
	mp := filepath.Join(volumes, filepath.Base("/"+name))
	switch path {
	case "/Plugin.Activate":
		return `{"Implements":["VolumeDriver"]}`
	case "/VolumeDriver.Create":
		if err := os.MkdirAll(mp, 0o755); err != nil {
			return `{"Err":` + strconv.Quote(err.Error()) + `}`
		}
		return `{}`
	case "/VolumeDriver.Remove":
		_ = os.RemoveAll(mp)
		return `{}`
	case "/VolumeDriver.Mount", "/VolumeDriver.Path":
		return `{"Mountpoint":` + strconv.Quote(mp) + `}`
	case "/VolumeDriver.Get":
		if _, err := os.Stat(mp); err != nil {
			return `{"Err":"no such volume"}`
		}
		return `{"Volume":{"Name":` + strconv.Quote(name) + `,"Mountpoint":` + strconv.Quote(mp) + `}}`
	case "/VolumeDriver.List":
		var vols []string
		entries, _ := os.ReadDir(volumes)
		for _, e := range entries {
			vols = append(vols, `{"Name":`+strconv.Quote(e.Name())+`,"Mountpoint":`+strconv.Quote(filepath.Join(volumes, e.Name()))+`}`)
		}
		return `{"Volumes":[` + strings.Join(vols, ",") + `]}`
	case "/VolumeDriver.Capabilities":
		return `{"Capabilities":{"Scope":"local"}}`
	case "/Diff.Facts":
		return facts()
	}
	return `{}`
}

// facts answers what the plugin was given, one fact per line, for the
// test to compare with what its config asked for: "uid N",
// "cap CAP_SYS_ADMIN" when it holds it, "env NAME=VALUE" per variable,
// "file PATH" for the paths of interest that exist, and "ls /root/.ssh"
// with its entries (where the settable mount cases bind).
func facts() string {
	out := []string{"uid " + strconv.Itoa(os.Getuid())}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
				if bits, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil && bits&(1<<21) != 0 {
					out = append(out, "cap CAP_SYS_ADMIN")
				}
			}
		}
	}
	for _, e := range os.Environ() {
		out = append(out, "env "+e)
	}
	for _, p := range []string{"/dev/fuse", "/root/.ssh/config.json", "/root/.ssh/diffplug-probe"} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, "file "+p)
		}
	}
	if entries, err := os.ReadDir("/root/.ssh"); err == nil {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		out = append(out, "ls /root/.ssh "+strings.Join(names, ","))
	}
	return strings.Join(out, "\n") + "\n"
}

// nameOf returns the "Name" string of a request body (volume names are
// plain: letters, digits, _.-).
func nameOf(body string) string {
	_, rest, ok := strings.Cut(body, `"Name":`)
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(rest, `"`) {
		return ""
	}
	name, _, _ := strings.Cut(rest[1:], `"`)
	return name
}
