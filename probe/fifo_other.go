//go:build !unix

package probe

import (
	"errors"
	"os"
)

func makeFIFO(string) (*os.File, error) { return nil, errors.New("log FIFOs need a unix system") }
