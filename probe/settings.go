package probe

import (
	"fmt"
	"net/netip"
	"strings"
)

// Settings are a probe run's choices as a user gives them (dplug test's
// flags): Opts as KEY=VALUE strings, Subnet as a CIDR, IP as an address.
type Settings struct {
	Strict bool
	Opts   []string // driver options KEY=VALUE (--opt)
	Subnet string   // an IPAM pool or network IPv4 pool (--ipam-subnet)
	IP     string   // an endpoint address (--ipam-ip)
}

// InputError is a setting that does not parse: the user's input, not the
// plugin, is wrong.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

// Options checks the settings and turns them into Run options; a bad
// setting is an *InputError.
func (s Settings) Options() ([]Option, error) {
	opts := []Option{WithStrict(s.Strict)}
	if len(s.Opts) > 0 {
		m := map[string]string{}
		for _, kv := range s.Opts {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, &InputError{fmt.Sprintf("--opt %q: want KEY=VALUE", kv)}
			}
			m[k] = v
		}
		opts = append(opts, WithDriverOptions(m))
	}
	if s.Subnet != "" {
		pf, err := netip.ParsePrefix(s.Subnet)
		if err != nil {
			return nil, &InputError{fmt.Sprintf("--ipam-subnet %q: want a CIDR such as 10.20.0.0/24", s.Subnet)}
		}
		opts = append(opts, WithIPAMSubnet(pf.Masked().String()))
	}
	if s.IP != "" {
		ip, err := netip.ParseAddr(s.IP)
		if err != nil {
			return nil, &InputError{fmt.Sprintf("--ipam-ip %q: want an IP address such as 10.20.0.5", s.IP)}
		}
		opts = append(opts, WithIPAMAddress(ip.String()))
	}
	return opts, nil
}
