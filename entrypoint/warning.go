package entrypoint

import (
	"fmt"
	"runtime"
)

// Warning is the message for a plugin being consumed (installed, pulled,
// run) whose entrypoint does not match platform ("" for this host): what
// was found, what it was checked against, then consequence. It is "" when
// the entrypoint matches or its architecture cannot be told statically.
func (r *Result) Warning(platform, consequence string) string {
	if r.Verdict != Mismatch {
		return ""
	}
	msg := fmt.Sprintf("%s but %s: %s", r.Subject(), against(platform), consequence)
	if r.Want == runtime.GOARCH && Emulated(r.Arch) {
		msg += fmt.Sprintf(" (here a qemu binfmt handler for %s is registered, so it runs emulated)", r.Arch)
	}
	return msg
}

// against names what a plugin is checked against, for messages.
func against(platform string) string {
	if platform == "" || Arch(platform) == runtime.GOARCH {
		return "this host is " + runtime.GOARCH
	}
	return "the platform asked for is " + platform
}

// PushError refuses to publish a plugin whose entrypoint does not match
// platform ("" for this host): dockerd would install it and fail at
// enable. It is nil unless the verdict is Mismatch.
func (r *Result) PushError(platform string) error {
	if r.Verdict != Mismatch {
		return nil
	}
	want := platform
	if want == "" {
		want = Host() + " (this host)"
	}
	return fmt.Errorf("refusing to push: %s, not %s: dockerd would install it and fail at enable with \"exec format error\"; "+
		"if it is meant for %s hosts, say so with --platform linux/%s", r.Subject(), want, r.Arch, r.Arch)
}
