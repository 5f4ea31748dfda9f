package podlet

import (
	"net/netip"
	"testing"
)

func TestIPPoolRoundRobinAndRelease(t *testing.T) {
	p, err := ParseIPPool("10.244.1.1-10.244.1.3")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Allocate("a")
	b, _ := p.Allocate("b")
	if a.String() != "10.244.1.1" || b.String() != "10.244.1.2" {
		t.Fatalf("got %s %s", a, b)
	}
	if again, _ := p.Allocate("a"); again != a {
		t.Errorf("same owner got a second address %s", again)
	}
	p.Release("a")
	// The freed address is not reused while an unused one remains.
	c, _ := p.Allocate("c")
	if c.String() != "10.244.1.3" {
		t.Errorf("got %s, want the never-used 10.244.1.3", c)
	}
	d, err := p.Allocate("d")
	if err != nil || d != a {
		t.Errorf("got %s, %v; want the released %s after wrapping", d, err, a)
	}
	if _, err := p.Allocate("e"); err == nil {
		t.Error("allocated from an exhausted pool")
	}
}

func TestIPPoolClaim(t *testing.T) {
	p, _ := ParseIPPool("10.244.1.1-10.244.1.9")
	if err := p.Claim("a", netip.MustParseAddr("10.244.1.5")); err != nil {
		t.Fatal(err)
	}
	if err := p.Claim("b", netip.MustParseAddr("10.244.1.5")); err == nil {
		t.Error("two owners for one address")
	}
	if err := p.Claim("b", netip.MustParseAddr("10.244.2.1")); err == nil {
		t.Error("claimed an address outside the pool")
	}
	if got, _ := p.Allocate("a"); got.String() != "10.244.1.5" {
		t.Errorf("owner a got %s, want its claimed address", got)
	}
}

func TestParseIPPoolRejects(t *testing.T) {
	for _, s := range []string{"", "10.0.0.1", "10.0.0.2-10.0.0.1", "::1-::2", "x-y"} {
		if _, err := ParseIPPool(s); err == nil {
			t.Errorf("ParseIPPool(%q) succeeded", s)
		}
	}
}
