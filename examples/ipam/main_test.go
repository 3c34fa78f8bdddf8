package main

import (
	"testing"

	"github.com/docker/go-plugins-helpers/ipam"
)

func TestAllocator(t *testing.T) {
	a, err := newAllocator("", "")
	if err != nil {
		t.Fatal(err)
	}
	pool := func(want string, r ipam.RequestPoolRequest) string {
		t.Helper()
		res, err := a.RequestPool(&r)
		if err != nil {
			t.Fatal(err)
		}
		if res.Pool != want {
			t.Fatalf("RequestPool(%+v) = %s, want %s", r, res.Pool, want)
		}
		return res.PoolID
	}
	addr := func(id, ask, want string) {
		t.Helper()
		res, err := a.RequestAddress(&ipam.RequestAddressRequest{PoolID: id, Address: ask})
		if err != nil {
			t.Fatal(err)
		}
		if res.Address != want {
			t.Fatalf("RequestAddress(%q) = %s, want %s", ask, res.Address, want)
		}
	}
	fails := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s succeeded", what)
		}
	}

	p1 := pool("10.200.0.0/24", ipam.RequestPoolRequest{AddressSpace: "local"})
	p2 := pool("10.200.1.0/24", ipam.RequestPoolRequest{AddressSpace: "local"})
	p3 := pool("192.168.77.0/24", ipam.RequestPoolRequest{AddressSpace: "local", Pool: "192.168.77.0/24", SubPool: "192.168.77.128/25"})
	_, err = a.RequestPool(&ipam.RequestPoolRequest{Pool: "10.200.1.128/25"})
	fails("an overlapping pool", err)
	_, err = a.RequestPool(&ipam.RequestPoolRequest{V6: true})
	fails("an IPv6 pool", err)

	addr(p1, "", "10.200.0.1/24")
	addr(p1, "", "10.200.0.2/24")
	addr(p1, "10.200.0.9", "10.200.0.9/24")
	_, err = a.RequestAddress(&ipam.RequestAddressRequest{PoolID: p1, Address: "10.200.0.9"})
	fails("a taken address", err)
	_, err = a.RequestAddress(&ipam.RequestAddressRequest{PoolID: p1, Address: "10.200.0.255"})
	fails("the broadcast address", err)
	_, err = a.RequestAddress(&ipam.RequestAddressRequest{PoolID: p1, Address: "10.9.9.9"})
	fails("an address outside the pool", err)
	_, err = a.RequestAddress(&ipam.RequestAddressRequest{PoolID: "nope"})
	fails("an unknown pool", err)
	addr(p3, "", "192.168.77.128/24")

	if err := a.ReleaseAddress(&ipam.ReleaseAddressRequest{PoolID: p1, Address: "10.200.0.1"}); err != nil {
		t.Fatal(err)
	}
	fails("releasing a free address", a.ReleaseAddress(&ipam.ReleaseAddressRequest{PoolID: p1, Address: "10.200.0.1"}))
	addr(p1, "", "10.200.0.1/24")

	if err := a.ReleasePool(&ipam.ReleasePoolRequest{PoolID: p1}); err != nil {
		t.Fatal(err)
	}
	fails("releasing a released pool", a.ReleasePool(&ipam.ReleasePoolRequest{PoolID: p1}))
	pool("10.200.0.0/24", ipam.RequestPoolRequest{AddressSpace: "local"})
	_ = p2
}

func TestAllocatorSettings(t *testing.T) {
	tests := []struct{ rng, size string }{
		{"10.0.0.0", "24"},
		{"fd00::/64", "24"},
		{"10.0.0.0/16", "8"},
		{"10.0.0.0/16", "31"},
		{"10.0.0.0/16", "x"},
	}
	for _, tt := range tests {
		if _, err := newAllocator(tt.rng, tt.size); err == nil {
			t.Errorf("newAllocator(%q, %q) succeeded", tt.rng, tt.size)
		}
	}
	a, err := newAllocator("10.1.0.0/29", "30")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := a.RequestPool(&ipam.RequestPoolRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.RequestPool(&ipam.RequestPoolRequest{}); err == nil {
		t.Errorf("a third /30 from a /29 succeeded")
	}
}
