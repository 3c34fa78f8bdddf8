package probe

import (
	"encoding/binary"
	"fmt"
	"time"
)

// loggingDir is where dockerd puts log FIFOs, as the plugin sees it
// (daemon/logger/plugin.go makePluginCreator).
const loggingDir = "/run/docker/logging"

// drainWait bounds how long the probe waits for the driver to read the
// entries it wrote.
var drainWait = 5 * time.Second

// logDriver probes a log driver the way dockerd starts and stops logging
// for a container (daemon/logger/plugin.go makePluginCreator,
// plugin_unix.go openPluginStream, adapter.go pluginAdapter): make the
// FIFO under the running plugin's root and open it read-write, non
// blocking; StartLogging with its path as the plugin sees it; write
// entries; StopLogging; close and remove the FIFO.
func (p *prober) logDriver() {
	p.enter("LogDriver", "LogDriver.", "Err")
	// Advisory: dockerd ignores a Capabilities error (makePluginCreator:
	// `caps, err := a.plugin.Capabilities(); if err == nil {...}`).
	var caps struct{ Cap struct{ ReadLogs bool } }
	p.call(probeCall{name: "Capabilities answers", method: "Capabilities", kind: Advisory, expect: optional, out: &caps})

	id := randHex(32)
	inside := loggingDir + "/" + id
	fifoCheck := Check{Interface: p.iface, Name: "the log FIFO is made in the running plugin's root", Method: "(fifo)"}
	var fifoStep *step
	var f *fifo
	if p.o.rootfs == "" {
		fifoStep = p.skip(fifoCheck, Required, "skipped: the running plugin's root is unknown (no overlay), so no FIFO can be made without writing into the installed rootfs")
	} else {
		begin := time.Now()
		var err error
		f, err = makeFIFO(p.o.rootfs, inside)
		detail := ""
		if err != nil {
			detail = fmt.Sprintf("making the log FIFO %s: %v (dockerd fails the container start the same way)", inside, err)
		}
		fifoStep = p.record(fifoCheck, Required, detail, "", begin)
	}
	if f != nil {
		defer f.Close()
	}
	info := map[string]any{
		"ContainerID": id, "ContainerName": "/" + p.name, "ContainerEntrypoint": "sh", "ContainerArgs": []string{"-c", "echo hi"},
		"ContainerImageID": "sha256:" + randHex(32), "ContainerImageName": "busybox", "ContainerCreated": time.Now().UTC(),
		"Config": map[string]string{}, "ContainerEnv": []string{}, "ContainerLabels": map[string]string{}, "LogPath": "", "DaemonName": "docker",
	}
	// Required: the container start fails with StartLogging's error
	// (makePluginCreator: "error creating logger").
	start := p.call(probeCall{name: "StartLogging succeeds", method: "StartLogging", kind: Required,
		req: map[string]any{"File": inside, "Info": info}, expect: wantOK, needs: []*step{fifoStep}})

	// Advisory: dockerd writes each line as it comes; a driver that does
	// not read blocks the container once the pipe is full
	// (plugin_unix.go openPluginStream's comment), but a slow reader works.
	p.drained(f, start)

	// Required when the driver says it can read logs: `docker logs` streams
	// ReadLogs' answer, length-prefixed LogEntry messages
	// (daemon/logger/plugin.go pluginAdapterWithRead, proxy.go ReadLogs).
	if caps.Cap.ReadLogs {
		p.call(probeCall{name: "ReadLogs answers a stream of log entries", method: "ReadLogs", kind: Required,
			req:    map[string]any{"Info": info, "Config": map[string]any{"Since": time.Time{}, "Until": time.Time{}, "Tail": -1, "Follow": false}},
			expect: wantStatus, needs: []*step{start}, check: func(st *step) error { return checkFrames(st.resp.Body) }})
	}

	// Required: the container stop reports StopLogging's error
	// (adapter.go pluginAdapter.Close).
	p.call(probeCall{name: "StopLogging succeeds", method: "StopLogging", kind: Required,
		req: map[string]any{"File": inside}, expect: wantOK, needs: []*step{start}})
}

// drained writes a few entries and checks the driver reads them.
func (p *prober) drained(f *fifo, start *step) {
	c := Check{Interface: p.iface, Name: "the driver reads the log entries written to the FIFO", Method: "(fifo)"}
	if cause := skipCause([]*step{start}); cause != "" {
		p.skip(c, Advisory, cause)
		return
	}
	begin := time.Now()
	now := time.Now()
	detail := ""
	for i, line := range []string{"dplug probe line 1", "dplug probe line 2", "dplug probe line 3"} {
		src := "stdout"
		if i == 1 {
			src = "stderr"
		}
		if _, err := f.Write(logEntry(src, []byte(line), now.Add(time.Duration(i)*time.Millisecond))); err != nil {
			detail = fmt.Sprintf("writing an entry: %v", err)
			break
		}
	}
	if detail == "" {
		n, err := f.unread()
		for deadline := time.Now().Add(drainWait); err == nil && n > 0 && time.Now().Before(deadline) && p.ctx.Err() == nil; {
			time.Sleep(20 * time.Millisecond)
			n, err = f.unread()
		}
		switch {
		case err != nil:
			detail = err.Error()
		case n > 0:
			detail = fmt.Sprintf("%d bytes still unread after %v: a container logging to this driver blocks once the pipe is full", n, drainWait)
		}
	}
	p.record(c, Advisory, detail, "", begin)
}

// logEntry frames one LogEntry message as dockerd writes it to the FIFO:
// a big-endian uint32 length, then the protobuf (source = 1, time_nano = 2,
// line = 3).
func logEntry(source string, line []byte, t time.Time) []byte {
	var msg []byte
	msg = append(msg, 0x0a)
	msg = binary.AppendUvarint(msg, uint64(len(source)))
	msg = append(msg, source...)
	msg = append(msg, 0x10)
	msg = binary.AppendUvarint(msg, uint64(t.UnixNano()))
	msg = append(msg, 0x1a)
	msg = binary.AppendUvarint(msg, uint64(len(line)))
	msg = append(msg, line...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
}

// checkFrames checks that b is a sequence of length-prefixed messages.
func checkFrames(b []byte) error {
	for n := 0; len(b) > 0; n++ {
		if len(b) < 4 {
			return fmt.Errorf("entry %d: %d bytes left, a length prefix takes 4", n, len(b))
		}
		l := binary.BigEndian.Uint32(b)
		if uint64(len(b)-4) < uint64(l) {
			return fmt.Errorf("entry %d: length %d but only %d bytes follow", n, l, len(b)-4)
		}
		b = b[4+l:]
	}
	return nil
}
