//go:build !linux

package probe

import "errors"

type fifo struct{}

func makeFIFO(string, string) (*fifo, error) {
	return nil, errors.New("log FIFOs are only made on Linux")
}

func (*fifo) Write([]byte) (int, error) { return 0, errors.New("log FIFOs are only made on Linux") }
func (*fifo) unread() (int, error)      { return 0, errors.New("log FIFOs are only made on Linux") }
func (*fifo) Close() error              { return nil }
