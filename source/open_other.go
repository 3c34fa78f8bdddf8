//go:build !unix

package source

import "os"

func openNonblock(path string) (*os.File, error) { return os.Open(path) }
