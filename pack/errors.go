package pack

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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
)

// classify turns go-containerregistry and net errors into one of the
// sentinel errors above, with a hint; other errors pass through.
func classify(ref string, err error) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: the registry refused access (log in with `docker login %s` or check the credential helper): %v",
				ErrUnauthorized, registryOf(ref), err)
		case http.StatusNotFound:
			return fmt.Errorf("%w: no such repository, tag or digest in the registry (check the name and tag): %v", ErrNotFound, err)
		}
		for _, d := range te.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Errorf("%w: the registry refused access (log in with `docker login %s` or check the credential helper): %v",
					ErrUnauthorized, registryOf(ref), err)
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return fmt.Errorf("%w: no such repository, tag or digest in the registry (check the name and tag): %v", ErrNotFound, err)
			}
		}
		return err
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("%w: cannot reach %s (check the host name and port; use --insecure for a plain-HTTP registry): %v",
			ErrUnreachable, registryOf(ref), err)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("%w: %s serves plain HTTP (use --insecure): %v", ErrUnreachable, registryOf(ref), err)
	}
	return err
}

func registryOf(ref string) string {
	if i := strings.IndexByte(ref, '/'); i > 0 {
		return ref[:i]
	}
	return ref
}
