package probe

import (
	"fmt"
	"net/netip"
)

func (p *prober) network() {
	const iface = "NetworkDriver"
	call := func(what, method string, req any, exp expect, out any, check func() error) *outcome {
		return p.call(iface, what, "NetworkDriver."+method, req, "Err", exp, out, check)
	}
	var caps struct{ Scope, ConnectivityScope string }
	call("GetCapabilities answers a valid scope", "GetCapabilities", nil, wantOK, &caps, func() error {
		if caps.Scope != "local" && caps.Scope != "global" {
			return fmt.Errorf("Scope %q: want local or global", caps.Scope)
		}
		if s := caps.ConnectivityScope; s != "" && s != "local" && s != "global" {
			return fmt.Errorf("ConnectivityScope %q: want local or global", s)
		}
		return nil
	})
	id := randHex(32)
	create := map[string]any{
		"NetworkID": id,
		"Options":   map[string]any{"com.docker.network.enable_ipv6": false, "com.docker.network.generic": map[string]any{}},
		"IPv4Data":  []map[string]any{{"AddressSpace": "LocalDefault", "Pool": "172.31.250.0/24", "Gateway": "172.31.250.1/24", "AuxAddresses": map[string]string{}}},
		"IPv6Data":  []map[string]any{},
	}
	call("CreateNetwork succeeds", "CreateNetwork", create, wantOK, nil, nil)
	call("DeleteNetwork succeeds", "DeleteNetwork", map[string]string{"NetworkID": id}, wantOK, nil, nil)
	call("a malformed request is refused", "CreateNetwork", []byte("{not json\n"), wantRefused, nil, nil)
}

func (p *prober) ipam() {
	const iface = "IpamDriver"
	call := func(what, method string, req any, exp expect, out any, check func() error) *outcome {
		return p.call(iface, what, "IpamDriver."+method, req, "Error", exp, out, check)
	}
	var caps struct{ RequiresMACAddress, RequiresRequestReplay bool }
	call("GetCapabilities answers", "GetCapabilities", nil, wantOK, &caps, nil)
	var spaces struct{ LocalDefaultAddressSpace, GlobalDefaultAddressSpace string }
	call("GetDefaultAddressSpaces names both spaces", "GetDefaultAddressSpaces", nil, wantOK, &spaces, func() error {
		if spaces.LocalDefaultAddressSpace == "" || spaces.GlobalDefaultAddressSpace == "" {
			return fmt.Errorf("got %+v: both must be set", spaces)
		}
		return nil
	})
	as := spaces.LocalDefaultAddressSpace
	var pool struct {
		PoolID string
		Pool   string
		Data   map[string]string
	}
	call("RequestPool returns a pool ID and a CIDR", "RequestPool",
		map[string]any{"AddressSpace": as, "Pool": "172.31.251.0/24", "SubPool": "", "Options": map[string]string{}, "V6": false},
		wantOK, &pool, func() error {
			if pool.PoolID == "" {
				return fmt.Errorf("empty PoolID")
			}
			if _, err := netip.ParsePrefix(pool.Pool); err != nil {
				return fmt.Errorf("Pool %q: %v", pool.Pool, err)
			}
			return nil
		})
	if pool.PoolID != "" {
		var addr struct{ Address string }
		call("RequestAddress returns a CIDR address", "RequestAddress",
			map[string]any{"PoolID": pool.PoolID, "Address": "", "Options": map[string]string{}}, wantOK, &addr, func() error {
				if _, err := netip.ParsePrefix(addr.Address); err != nil {
					return fmt.Errorf("Address %q: %v", addr.Address, err)
				}
				return nil
			})
		if addr.Address != "" {
			ip, _, _ := splitPrefix(addr.Address)
			call("ReleaseAddress succeeds", "ReleaseAddress", map[string]string{"PoolID": pool.PoolID, "Address": ip}, wantOK, nil, nil)
		}
		call("ReleasePool succeeds", "ReleasePool", map[string]string{"PoolID": pool.PoolID}, wantOK, nil, nil)
	}
	call("RequestPool of a malformed CIDR fails in Error", "RequestPool",
		map[string]any{"AddressSpace": as, "Pool": "not-a-cidr", "Options": map[string]string{}, "V6": false}, wantErr, nil, nil)
	call("a malformed request is refused", "RequestPool", []byte("{not json\n"), wantRefused, nil, nil)
}

func splitPrefix(s string) (string, int, error) {
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		return "", 0, err
	}
	return pf.Addr().String(), pf.Bits(), nil
}

func (p *prober) authz() {
	const iface = "authz"
	call := func(what, method string, req any, exp expect, out any, check func() error) *outcome {
		return p.call(iface, what, "AuthZPlugin."+method, req, "Err", exp, out, check)
	}
	req := map[string]any{
		"User": "dplug-probe", "UserAuthNMethod": "TLS", "RequestMethod": "GET", "RequestUri": "/v1.41/_ping",
		"RequestHeaders": map[string]string{"User-Agent": "dplug-probe"},
	}
	var az struct{ Allow *bool }
	allow := func() error {
		if az.Allow == nil {
			return fmt.Errorf("answer lacks Allow")
		}
		return nil
	}
	call("AuthZReq answers Allow", "AuthZReq", req, wantOK, &az, allow)
	res := map[string]any{}
	for k, v := range req {
		res[k] = v
	}
	res["ResponseStatusCode"] = 200
	res["ResponseBody"] = []byte("OK")
	res["ResponseHeaders"] = map[string]string{"Content-Type": "text/plain"}
	az.Allow = nil
	call("AuthZRes answers Allow", "AuthZRes", res, wantOK, &az, allow)
	call("a malformed request is refused", "AuthZReq", []byte("{not json\n"), wantRefused, nil, nil)
}

func (p *prober) metrics() {
	const iface = "MetricsCollector"
	call := func(what, method string, exp expect) {
		p.call(iface, what, "MetricsCollector."+method, nil, "Err", exp, nil, nil)
	}
	call("StartMetrics succeeds", "StartMetrics", wantOK)
	call("StopMetrics succeeds", "StopMetrics", wantOK)
}
