package podlet

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
)

// IPPool hands out pod addresses from an inclusive IPv4 range. It walks the range
// round-robin instead of reusing the lowest free address, so an address released
// by a deleted pod is not handed to the next pod at once (stale EndpointSlices and
// neighbour entries then never point at the wrong pod).
type IPPool struct {
	mu          sync.Mutex
	first, last netip.Addr
	next        netip.Addr
	used        map[netip.Addr]string // address -> owner (pod UID)
}

// ParseIPPool parses "FIRST-LAST" (both IPv4, FIRST <= LAST).
func ParseIPPool(s string) (*IPPool, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return nil, fmt.Errorf("pool %q: want FIRST-LAST", s)
	}
	first, err := netip.ParseAddr(strings.TrimSpace(a))
	if err != nil {
		return nil, fmt.Errorf("pool %q: %w", s, err)
	}
	last, err := netip.ParseAddr(strings.TrimSpace(b))
	if err != nil {
		return nil, fmt.Errorf("pool %q: %w", s, err)
	}
	if !first.Is4() || !last.Is4() || last.Less(first) {
		return nil, fmt.Errorf("pool %q: want an IPv4 range with FIRST <= LAST", s)
	}
	return &IPPool{first: first, last: last, next: first, used: map[netip.Addr]string{}}, nil
}

// Contains reports whether addr lies inside the pool's range.
func (p *IPPool) Contains(addr netip.Addr) bool {
	return addr.Is4() && !addr.Less(p.first) && !p.last.Less(addr)
}

// Allocate returns a free address for owner. An owner that already holds an
// address gets the same one back.
func (p *IPPool) Allocate(owner string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, o := range p.used {
		if o == owner {
			return a, nil
		}
	}
	start := p.next
	for {
		a := p.next
		p.next = a.Next()
		if !p.Contains(p.next) {
			p.next = p.first
		}
		if _, taken := p.used[a]; !taken {
			p.used[a] = owner
			return a, nil
		}
		if p.next == start {
			return netip.Addr{}, fmt.Errorf("pod address pool %s-%s exhausted", p.first, p.last)
		}
	}
}

// Claim records that owner holds addr (a pod that already had an address when the
// podlet started). It fails when the address is outside the pool or held by another owner.
func (p *IPPool) Claim(owner string, addr netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.Contains(addr) {
		return fmt.Errorf("%s is outside the pod address pool", addr)
	}
	if o, taken := p.used[addr]; taken && o != owner {
		return fmt.Errorf("%s is already held by %s", addr, o)
	}
	p.used[addr] = owner
	return nil
}

// Release frees whatever address owner holds.
func (p *IPPool) Release(owner string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, o := range p.used {
		if o == owner {
			delete(p.used, a)
		}
	}
}
