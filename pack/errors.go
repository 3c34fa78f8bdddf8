package pack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Errors callers can branch on with errors.Is. Every error pack returns
// also names the reference and says what to do.
var (
	// ErrBadReference: the reference does not parse.
	ErrBadReference = errors.New("invalid reference")
	// ErrUnreachable: the registry host does not resolve or answer.
	ErrUnreachable = errors.New("registry unreachable")
	// ErrUnauthorized: the registry wants (other) credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: no such repository, tag or digest.
	ErrNotFound = errors.New("not found")
	// ErrNotPlugin: the reference is something else, e.g. a container image.
	ErrNotPlugin = errors.New("not a Docker plugin")
	// ErrDigestMismatch: the registry served content that does not match its digest.
	ErrDigestMismatch = errors.New("content does not match its digest")
	// ErrUnsupported: a media type dplug (and dockerd) cannot use.
	ErrUnsupported = errors.New("unsupported media type")
	// ErrTimeout: the registry (or its token server) did not answer, or
	// went silent mid-transfer, for longer than the timeout (WithTimeout).
	ErrTimeout = errors.New("registry timed out")
	// ErrTooManyRedirects: a request was redirected more than 10 times.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrBadManifest: the manifest is a plugin's but unusable, e.g. a blob
	// without a positive size.
	ErrBadManifest = errors.New("invalid manifest")
	// ErrDamaged: the registry served a blob whose digest checks out but
	// whose content is broken (a truncated gzip or tar): the pushed blob
	// itself is damaged, so trying again cannot help.
	ErrDamaged = errors.New("damaged blob")
	// ErrTooLarge: the layers expand past the size limit (WithMaxSize).
	ErrTooLarge = errors.New("plugin too large")
)

// classify turns go-containerregistry and net errors into one of the
// sentinel errors above, with a hint; other errors pass through. The
// messages are one line: the registry's own error code and message, not
// the request URL and detail map go-containerregistry prints.
func classify(ref string, err error) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: the registry refused access (%s; log in with `docker login %s` or check the credential helper)",
				ErrUnauthorized, registryMessage(te), registryOf(ref))
		case http.StatusNotFound:
			return fmt.Errorf("%w in the registry (%s; check the repository name and tag)", ErrNotFound, registryMessage(te))
		}
		for _, d := range te.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Errorf("%w: the registry refused access (%s; log in with `docker login %s` or check the credential helper)",
					ErrUnauthorized, registryMessage(te), registryOf(ref))
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return fmt.Errorf("%w in the registry (%s; check the repository name and tag)", ErrNotFound, registryMessage(te))
			}
		}
		return &registryError{err: te}
	}
	if errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrTimeout) {
		return err
	}
	var ne net.Error
	// net/http's own timeouts also match context.DeadlineExceeded; the
	// caller's deadline is the one whose innermost error is exactly that.
	if errors.As(err, &ne) && ne.Timeout() && rootCause(ne) != context.DeadlineExceeded {
		return fmt.Errorf("%w: %s did not answer in time (%v); raise --timeout (or DPLUG_TIMEOUT) if the network is that slow",
			ErrTimeout, registryOf(ref), ne)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: cannot resolve the registry host %s (check its spelling)", ErrUnreachable, dnsErr.Name)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		cause := opErr.Err
		var sysErr *os.SyscallError
		if errors.As(cause, &sysErr) {
			cause = sysErr.Err
		}
		return fmt.Errorf("%w: cannot connect to %s: %v (check the host name and port, and that the registry is running)",
			ErrUnreachable, registryOf(ref), cause)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("%w: %s serves plain HTTP (use --insecure): %v", ErrUnreachable, registryOf(ref), err)
	}
	return err
}

// registryError is any other error answer from a registry, printed as
// "the registry answered CODE: message" (or its HTTP status) rather than
// with the request URL; errors.As still finds the *transport.Error.
type registryError struct{ err *transport.Error }

func (e *registryError) Error() string { return "the registry answered " + registryMessage(e.err) }

func (e *registryError) Unwrap() error { return e.err }

// registryMessage renders the registry's error codes and messages
// ("MANIFEST_UNKNOWN: manifest unknown"), or the HTTP status when the body
// held none.
func registryMessage(te *transport.Error) string {
	var parts []string
	for _, d := range te.Errors {
		parts = append(parts, fmt.Sprintf("%s: %s", d.Code, d.Message))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d %s", te.StatusCode, http.StatusText(te.StatusCode))
	}
	return strings.Join(parts, "; ")
}

func registryOf(ref string) string {
	if i := strings.IndexByte(ref, '/'); i > 0 {
		return ref[:i]
	}
	return ref
}
