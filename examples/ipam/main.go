// Command example-ipam is a Docker IPAM plugin: a small IPv4 pool allocator.
// Networks that name no subnet get the next free /POOL_SIZE from POOL_RANGE
// (plugin settings); addresses are handed out lowest first. State lives in
// memory, as for dockerd's own default IPAM driver, which asks again for the
// pools of its networks when it restarts.
//
//	docker network create --ipam-driver example-ipam:latest mynet
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"strconv"
	"sync"

	"github.com/docker/go-plugins-helpers/ipam"
)

func main() {
	socket := flag.String("socket", "/run/docker/plugins/example-ipam.sock", "unix socket to serve the plugin API on")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("example-ipam: ")

	a, err := newAllocator(os.Getenv("POOL_RANGE"), os.Getenv("POOL_SIZE"))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("allocating /%d pools from %s", a.size, a.space)
	if err := serve(ipam.NewHandler(a), *socket); err != nil {
		log.Fatal(err)
	}
}

// pool is one allocated subnet and the addresses taken in it.
type pool struct {
	prefix netip.Prefix // the network
	rng    netip.Prefix // where dynamic addresses come from (SubPool or prefix)
	used   map[netip.Addr]bool
}

// allocator implements ipam.Ipam.
type allocator struct {
	space netip.Prefix // POOL_RANGE
	size  int          // POOL_SIZE

	mu    sync.Mutex
	pools map[string]*pool // by pool ID
}

func newAllocator(space, size string) (*allocator, error) {
	if space == "" {
		space = "10.200.0.0/16"
	}
	if size == "" {
		size = "24"
	}
	p, err := netip.ParsePrefix(space)
	if err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("setting POOL_RANGE=%q: want an IPv4 CIDR such as 10.200.0.0/16", space)
	}
	n, err := strconv.Atoi(size)
	if err != nil || n < p.Bits() || n > 30 {
		return nil, fmt.Errorf("setting POOL_SIZE=%q: want a prefix length from %d to 30", size, p.Bits())
	}
	return &allocator{space: p.Masked(), size: n, pools: map[string]*pool{}}, nil
}

func (a *allocator) GetCapabilities() (*ipam.CapabilitiesResponse, error) {
	return &ipam.CapabilitiesResponse{RequiresMACAddress: false}, nil
}

func (a *allocator) GetDefaultAddressSpaces() (*ipam.AddressSpacesResponse, error) {
	return &ipam.AddressSpacesResponse{LocalDefaultAddressSpace: "local", GlobalDefaultAddressSpace: "global"}, nil
}

func (a *allocator) RequestPool(r *ipam.RequestPoolRequest) (*ipam.RequestPoolResponse, error) {
	if r.V6 {
		return nil, errors.New("example-ipam allocates IPv4 only")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var prefix netip.Prefix
	if r.Pool != "" {
		p, err := netip.ParsePrefix(r.Pool)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("pool %q is not an IPv4 CIDR", r.Pool)
		}
		prefix = p.Masked()
		if other := a.overlap(prefix); other != "" {
			return nil, fmt.Errorf("pool %s overlaps pool %s", prefix, other)
		}
	} else {
		p, ok := a.nextFree()
		if !ok {
			return nil, fmt.Errorf("no free /%d pool left in %s", a.size, a.space)
		}
		prefix = p
	}
	rng := prefix
	if r.SubPool != "" {
		s, err := netip.ParsePrefix(r.SubPool)
		if err != nil || !prefix.Contains(s.Addr()) || s.Bits() < prefix.Bits() {
			return nil, fmt.Errorf("sub-pool %q is not inside pool %s", r.SubPool, prefix)
		}
		rng = s.Masked()
	}
	id := r.AddressSpace + "/" + prefix.String()
	a.pools[id] = &pool{prefix: prefix, rng: rng, used: map[netip.Addr]bool{}}
	log.Printf("pool %s allocated", id)
	return &ipam.RequestPoolResponse{PoolID: id, Pool: prefix.String()}, nil
}

// overlap returns the pool prefix that overlaps p, or "".
func (a *allocator) overlap(p netip.Prefix) string {
	for _, q := range a.pools {
		if q.prefix.Overlaps(p) {
			return q.prefix.String()
		}
	}
	return ""
}

// nextFree returns the first /size subnet of the space no pool overlaps.
func (a *allocator) nextFree() (netip.Prefix, bool) {
	step := uint32(1) << (32 - a.size)
	base := a.space.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	count := uint32(1) << (a.size - a.space.Bits())
	for i := uint32(0); i < count; i++ {
		v := start + i*step
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), a.size)
		if a.overlap(p) == "" {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

func (a *allocator) ReleasePool(r *ipam.ReleasePoolRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.pools[r.PoolID]; !ok {
		return fmt.Errorf("no such pool %q", r.PoolID)
	}
	delete(a.pools, r.PoolID)
	log.Printf("pool %s released", r.PoolID)
	return nil
}

func (a *allocator) RequestAddress(r *ipam.RequestAddressRequest) (*ipam.RequestAddressResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pools[r.PoolID]
	if !ok {
		return nil, fmt.Errorf("no such pool %q", r.PoolID)
	}
	var ip netip.Addr
	if r.Address != "" {
		want, err := netip.ParseAddr(r.Address)
		if err != nil || !p.usable(want) {
			return nil, fmt.Errorf("address %q is not a usable address of pool %s", r.Address, p.prefix)
		}
		if p.used[want] {
			return nil, fmt.Errorf("address %s is already in use", want)
		}
		ip = want
	} else {
		for c := p.rng.Addr(); p.rng.Contains(c); c = c.Next() {
			if p.usable(c) && !p.used[c] {
				ip = c
				break
			}
		}
		if !ip.IsValid() {
			return nil, fmt.Errorf("pool %s has no free address", p.prefix)
		}
	}
	p.used[ip] = true
	return &ipam.RequestAddressResponse{Address: netip.PrefixFrom(ip, p.prefix.Bits()).String()}, nil
}

func (a *allocator) ReleaseAddress(r *ipam.ReleaseAddressRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pools[r.PoolID]
	if !ok {
		return fmt.Errorf("no such pool %q", r.PoolID)
	}
	ip, err := netip.ParseAddr(r.Address)
	if err != nil || !p.used[ip] {
		return fmt.Errorf("address %q is not allocated in pool %s", r.Address, p.prefix)
	}
	delete(p.used, ip)
	return nil
}

// usable reports whether ip may be handed out: inside the pool, and neither
// its network nor its broadcast address (except in /31 and /32 pools).
func (p *pool) usable(ip netip.Addr) bool {
	if !ip.Is4() || !p.prefix.Contains(ip) {
		return false
	}
	if p.prefix.Bits() >= 31 {
		return true
	}
	if ip == p.prefix.Addr() {
		return false
	}
	b := ip.As4()
	host := ^uint32(0) >> p.prefix.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return v&host != host
}
