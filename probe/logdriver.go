package probe

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// loggingDir is where dockerd puts log FIFOs, as the plugin sees it.
const loggingDir = "/run/docker/logging"

func (p *prober) logDriver() {
	const iface = "LogDriver"
	call := func(what, method string, req any, exp expect, out any, check func() error) *outcome {
		return p.call(iface, what, "LogDriver."+method, req, "Err", exp, out, check)
	}
	var caps struct{ Cap struct{ ReadLogs bool } }
	call("Capabilities answers", "Capabilities", nil, optional, &caps, nil)
	if p.o.rootfs == "" {
		p.rep.Checks = append(p.rep.Checks, Check{Interface: iface, Name: "StartLogging/StopLogging", Method: "LogDriver.StartLogging",
			Skipped: true, Detail: "the plugin's rootfs is unknown, so no FIFO can be made"})
		return
	}
	id := randHex(32)
	inside := loggingDir + "/" + id
	host := filepath.Join(p.o.rootfs, inside)
	fifo, err := makeFIFO(host)
	if err != nil {
		p.rep.Checks = append(p.rep.Checks, Check{Interface: iface, Name: "StartLogging", Method: "LogDriver.StartLogging",
			Detail: fmt.Sprintf("making the log FIFO: %v", err)})
		return
	}
	defer func() {
		fifo.Close()
		os.Remove(host)
	}()
	info := map[string]any{
		"ContainerID": id, "ContainerName": "/" + p.name, "ContainerEntrypoint": "sh", "ContainerArgs": []string{},
		"ContainerImageID": "sha256:" + randHex(32), "ContainerImageName": "busybox", "ContainerCreated": time.Now().UTC(),
		"Config": map[string]string{}, "ContainerEnv": []string{}, "ContainerLabels": map[string]string{}, "LogPath": "", "DaemonName": "docker",
	}
	call("StartLogging succeeds", "StartLogging", map[string]any{"File": inside, "Info": info}, wantOK, nil, nil)
	_, _ = fifo.Write(logEntry("stdout", []byte("dplug probe line"), time.Now()))
	call("StopLogging succeeds", "StopLogging", map[string]any{"File": inside}, wantOK, nil, nil)
	call("StartLogging of a missing FIFO fails in Err", "StartLogging",
		map[string]any{"File": loggingDir + "/" + randHex(32) + "-missing", "Info": info}, wantErr, nil, nil)
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
