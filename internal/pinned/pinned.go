// Package pinned starts child processes whose SysProcAttr.Pdeathsig must
// mean "when this process dies".
//
// Linux sends Pdeathsig when the *thread* that forked the child exits, not
// the process. Go ends a thread when a goroutine locked to it returns
// (libcontainer's namespace code does that), and the thread that forked a
// daemon may be that one: the daemon then gets its death signal while the
// process that started it is alive. Start forks from a goroutine that
// locks its thread and never returns, so the thread lives as long as the
// process.
package pinned

import (
	"os/exec"
	"runtime"
)

// Start starts cmd from an OS thread that lives as long as the process.
// Each call keeps one parked goroutine and its thread: for the few
// daemons a process starts.
func Start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- cmd.Start()
		select {} // never return: the locked thread must outlive the child
	}()
	return <-errc
}
