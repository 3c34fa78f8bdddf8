package probe

import (
	"fmt"
	"net/netip"
)

// defaultSubnet is the network driver's IPv4 pool when no --ipam-subnet
// is given (dockerd's default IPAM would pick one from its own ranges).
const defaultSubnet = "172.31.250.0/24"

// gatewayOf returns the first host address of the pool, with its length,
// as dockerd's default IPAM picks the gateway.
func gatewayOf(pf netip.Prefix) string {
	return netip.PrefixFrom(pf.Masked().Addr().Next(), pf.Bits()).String()
}

// network probes a network driver with the requests dockerd sends for
// `docker network create -o` and `docker network rm`.
func (p *prober) network() {
	p.enter("NetworkDriver", "NetworkDriver.", "Err")
	// Required: dockerd registers the driver only when GetCapabilities
	// answers a Scope and a ConnectivityScope of local or global (empty:
	// the Scope); anything else leaves the driver unregistered
	// (libnetwork/drivers/remote/driver.go getCapabilities, Register).
	var caps struct{ Scope, ConnectivityScope string }
	capsStep := p.call(probeCall{name: "GetCapabilities answers a valid Scope and ConnectivityScope", method: "GetCapabilities",
		kind: Required, expect: wantOK, out: &caps, check: func(*step) error {
			if caps.Scope != "local" && caps.Scope != "global" {
				return fmt.Errorf("capabilities Scope %q: want local or global (dockerd does not register the driver)", caps.Scope)
			}
			if s := caps.ConnectivityScope; s != "" && s != "local" && s != "global" {
				return fmt.Errorf("ConnectivityScope %q: want local, global or empty (dockerd does not register the driver)", s)
			}
			return nil
		}})
	subnet := netip.MustParsePrefix(defaultSubnet)
	if s, err := netip.ParsePrefix(p.o.subnet); err == nil {
		subnet = s
	}
	generic := map[string]string{}
	for k, v := range p.o.driverOpts {
		generic[k] = v
	}
	id := randHex(32)
	// `docker network create -o k=v` puts the user's options under
	// com.docker.network.generic (libnetwork/netlabel GenericData).
	create := map[string]any{
		"NetworkID": id,
		"Options":   map[string]any{"com.docker.network.enable_ipv6": false, "com.docker.network.generic": generic},
		"IPv4Data": []map[string]any{{"AddressSpace": "LocalDefault", "Pool": subnet.Masked().String(),
			"Gateway": gatewayOf(subnet), "AuxAddresses": map[string]string{}}},
		"IPv6Data": []map[string]any{},
	}
	// Required: `docker network create` fails with CreateNetwork's error
	// (libnetwork/drivers/remote/driver.go CreateNetwork).
	created := p.call(probeCall{name: "CreateNetwork succeeds", method: "CreateNetwork", kind: Required,
		req: create, expect: wantOK, needs: []*step{capsStep}})
	if len(p.o.driverOpts) == 0 && !created.ok && created.errMsg != "" {
		p.rep.Checks[len(p.rep.Checks)-1].Reason += " (if the driver needs options, pass them with --opt KEY=VALUE, as to docker network create -o)"
	}
	// Required: `docker network rm` fails with DeleteNetwork's error
	// (libnetwork/drivers/remote/driver.go DeleteNetwork).
	p.call(probeCall{name: "DeleteNetwork succeeds", method: "DeleteNetwork", kind: Required,
		req: map[string]string{"NetworkID": id}, expect: wantOK, needs: []*step{created}})
	p.malformed("CreateNetwork")
}

// ipam probes an IPAM driver with the requests dockerd sends for `docker
// network create --ipam-driver [--subnet] [--ipam-opt]` and a container's
// endpoint (`docker run [--ip]`). Malformed pools are not sent: dockerd
// refuses an invalid --subnet itself before calling the driver.
func (p *prober) ipam() {
	p.enter("IpamDriver", "IpamDriver.", "Error")
	opts := p.o.driverOpts
	if opts == nil {
		opts = map[string]string{}
	}
	spacesStep, space := p.ipamSpaces()
	poolStep, poolID := p.ipamPool(spacesStep, space, opts)
	p.ipamAddresses(poolStep, poolID, opts)
	p.malformed("RequestPool")
}

// ipamSpaces asks for the capabilities and the address spaces; space is
// the local default one.
func (p *prober) ipamSpaces() (spacesStep *step, space string) {
	// Advisory: without an answer dockerd registers the driver without
	// capabilities (libnetwork/ipams/remote/remote.go Register).
	var caps struct{ RequiresMACAddress, RequiresRequestReplay bool }
	p.call(probeCall{name: "GetCapabilities answers", method: "GetCapabilities", kind: Advisory, expect: wantOK, out: &caps})

	// Required: every RequestPool starts with GetDefaultAddressSpaces and
	// fails with its error (libnetwork/ipams/remote/remote.go RequestPool).
	var spaces struct{ LocalDefaultAddressSpace, GlobalDefaultAddressSpace string }
	spacesStep = p.call(probeCall{name: "GetDefaultAddressSpaces answers", method: "GetDefaultAddressSpaces", kind: Required,
		expect: wantOK, out: &spaces})
	// Advisory: dockerd passes the names back as they are.
	p.judge("GetDefaultAddressSpaces names both spaces", "GetDefaultAddressSpaces", Advisory, []*step{spacesStep}, func() error {
		if spaces.LocalDefaultAddressSpace == "" || spaces.GlobalDefaultAddressSpace == "" {
			return fmt.Errorf("got %+v: both should be set", spaces)
		}
		return nil
	})
	return spacesStep, spaces.LocalDefaultAddressSpace
}

// ipamPool requests a pool in space, as `docker network create` does.
func (p *prober) ipamPool(spacesStep *step, space string, opts map[string]string) (poolStep *step, poolID string) {
	var pool struct {
		PoolID string
		Pool   string
		Data   map[string]string
	}
	// Required: the pool must parse as a CIDR or the network create fails
	// (libnetwork/ipams/remote/remote.go requestPool: netip.ParsePrefix).
	poolStep = p.call(probeCall{name: "RequestPool returns a CIDR pool", method: "RequestPool", kind: Required,
		req:    map[string]any{"AddressSpace": space, "Pool": p.o.subnet, "SubPool": "", "Options": opts, "V6": false},
		expect: wantOK, out: &pool, needs: []*step{spacesStep}, check: func(*step) error {
			if _, err := netip.ParsePrefix(pool.Pool); err != nil {
				return fmt.Errorf("pool %q: %v", pool.Pool, err)
			}
			return nil
		}})
	if p.o.subnet == "" && !poolStep.ok && poolStep.errMsg != "" {
		p.rep.Checks[len(p.rep.Checks)-1].Reason += " (if the driver needs a subnet, pass --ipam-subnet CIDR, as docker network create --subnet)"
	}
	// Advisory: dockerd keeps the PoolID opaque and hands it back in
	// RequestAddress, ReleaseAddress and ReleasePool; an empty one only works
	// for a driver with a single pool.
	p.judge("RequestPool returns a pool ID", "RequestPool", Advisory, []*step{poolStep}, func() error {
		if pool.PoolID == "" {
			return fmt.Errorf("empty PoolID: dockerd would hand \"\" back in every later call")
		}
		return nil
	})
	return poolStep, pool.PoolID
}

// ipamAddresses requests the gateway's and an endpoint's address from the
// pool, then releases them and the pool.
func (p *prober) ipamAddresses(poolStep *step, poolID string, opts map[string]string) {
	gwOpts := map[string]string{"RequestAddressType": "com.docker.network.gateway"}
	for k, v := range opts {
		gwOpts[k] = v
	}
	gwStep, gw := p.requestAddress(poolStep, poolID, "RequestAddress returns a gateway address", "", gwOpts)
	epStep, ep := p.requestAddress(poolStep, poolID, "RequestAddress returns an endpoint address", p.o.ip, map[string]string{})
	if p.o.ip == "" && !epStep.ok && epStep.errMsg != "" {
		p.rep.Checks[len(p.rep.Checks)-1].Reason += " (if the driver needs an explicit address, pass --ipam-ip IP, as docker run --ip)"
	}
	p.releaseAddress(epStep, poolID, ep)
	p.releaseAddress(gwStep, poolID, gw)
	p.call(probeCall{name: "ReleasePool succeeds", method: "ReleasePool", kind: Advisory,
		req: map[string]string{"PoolID": poolID}, expect: wantOK, needs: []*step{poolStep}})
}

// requestAddress asks the pool for addr ("" for any). Required: dockerd
// asks for the gateway, then the endpoint's address; an empty Address or
// one that is not a CIDR fails the network create or the container start
// (libnetwork/ipams/remote/remote.go RequestAddress: ErrNoIPReturned,
// types.ParseCIDR).
func (p *prober) requestAddress(poolStep *step, poolID, name, addr string, o map[string]string) (*step, string) {
	var res struct{ Address string }
	st := p.call(probeCall{name: name, method: "RequestAddress", kind: Required,
		req: map[string]any{"PoolID": poolID, "Address": addr, "Options": o}, expect: wantOK, out: &res,
		needs: []*step{poolStep}, check: func(*step) error {
			if res.Address == "" {
				return fmt.Errorf("empty Address (dockerd: no IP returned)")
			}
			if _, err := netip.ParsePrefix(res.Address); err != nil {
				return fmt.Errorf("address %q is not in CIDR form: %v", res.Address, err)
			}
			return nil
		}})
	return st, res.Address
}

// releaseAddress gives back the address st got. Advisory: release errors
// are only logged (libnetwork/endpoint.go releaseAddress, network
// deletion).
func (p *prober) releaseAddress(st *step, poolID, addr string) {
	ip := addr
	if pf, err := netip.ParsePrefix(addr); err == nil {
		ip = pf.Addr().String()
	}
	p.call(probeCall{name: "ReleaseAddress succeeds", method: "ReleaseAddress", kind: Advisory,
		req: map[string]string{"PoolID": poolID, "Address": ip}, expect: wantOK, needs: []*step{st}})
}

func (p *prober) metrics() {
	p.enter("MetricsCollector", "MetricsCollector.", "Err")
	// Required: dockerd calls both with no answer to decode, so only the
	// status counts; on an error the collector never starts
	// (daemon/internal/metrics/plugin_unix.go RegisterPlugin, CleanupPlugin).
	start := p.call(probeCall{name: "StartMetrics succeeds", method: "StartMetrics", kind: Required, expect: wantStatus})
	p.call(probeCall{name: "StopMetrics succeeds", method: "StopMetrics", kind: Required, expect: wantStatus, needs: []*step{start}})
}
