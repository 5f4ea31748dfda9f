// Command upstream-features prints, as JSON, what the pinned Gateway API release
// says about conformance: every feature (name, channel, group), every profile
// (core and extended features) and every test (short name, features, provisional).
// The feature registry's generator and check read it; nothing is written by hand.
package main

import (
	"encoding/json"
	"os"
	"sort"

	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/consts"
	"sigs.k8s.io/gateway-api/pkg/features"
)

type feature struct {
	Name    string `json:"name"`
	Channel string `json:"channel"`
	Group   string `json:"group"`
}

type profile struct {
	Name     string   `json:"name"`
	Core     []string `json:"core"`
	Extended []string `json:"extended"`
}

type test struct {
	Name        string   `json:"name"`
	Features    []string `json:"features"`
	Provisional bool     `json:"provisional"`
}

type out struct {
	Version  string    `json:"version"`
	Features []feature `json:"features"`
	Profiles []profile `json:"profiles"`
	Tests    []test    `json:"tests"`
}

// groups maps each upstream feature set to the group name the registry uses.
// ListenerSet is declared in gateway.go but is its own API kind.
var groups = []struct {
	name string
	set  sets.Set[features.Feature]
}{
	{"Gateway", features.GatewayCoreFeatures},
	{"Gateway", features.GatewayExtendedFeatures},
	{"HTTPRoute", features.HTTPRouteCoreFeatures},
	{"HTTPRoute", features.HTTPRouteExtendedFeatures},
	{"GRPCRoute", features.GRPCRouteCoreFeatures},
	{"GRPCRoute", features.GRPCRouteExtendedFeatures},
	{"TLSRoute", features.TLSRouteCoreFeatures},
	{"TLSRoute", features.TLSRouteExtendedFeatures},
	{"TCPRoute", features.TCPRouteExtendedFeatures},
	{"UDPRoute", features.UDPRouteFeatures},
	{"Mesh", features.MeshCoreFeatures},
	{"Mesh", features.MeshExtendedFeatures},
	{"BackendTLSPolicy", features.BackendTLSPolicyCoreFeatures},
	{"BackendTLSPolicy", features.BackendTLSPolicyExtendedFeatures},
	{"ReferenceGrant", features.ReferenceGrantCoreFeatures},
}

func groupOf(f features.Feature) string {
	if f.Name == features.SupportListenerSet {
		return "ListenerSet"
	}
	for _, g := range groups {
		if g.set.Has(f) {
			return g.name
		}
	}
	return "Other"
}

func sortedNames(s sets.Set[features.FeatureName]) []string {
	r := []string{}
	for n := range s {
		r = append(r, string(n))
	}
	sort.Strings(r)
	return r
}

func main() {
	o := out{Version: consts.BundleVersion}
	for _, f := range features.AllFeatures.UnsortedList() {
		o.Features = append(o.Features, feature{Name: string(f.Name), Channel: string(f.Channel), Group: groupOf(f)})
	}
	sort.Slice(o.Features, func(i, j int) bool { return o.Features[i].Name < o.Features[j].Name })
	for _, p := range []suite.ConformanceProfile{
		suite.GatewayHTTPConformanceProfile, suite.GatewayTLSConformanceProfile,
		suite.GatewayTCPConformanceProfile, suite.GatewayUDPConformanceProfile,
		suite.GatewayGRPCConformanceProfile, suite.MeshHTTPConformanceProfile,
		suite.MeshGRPCConformanceProfile,
	} {
		o.Profiles = append(o.Profiles, profile{Name: string(p.Name), Core: sortedNames(p.CoreFeatures), Extended: sortedNames(p.ExtendedFeatures)})
	}
	for _, ct := range tests.ConformanceTests {
		t := test{Name: ct.ShortName, Provisional: ct.Provisional, Features: []string{}}
		for _, f := range ct.Features {
			t.Features = append(t.Features, string(f))
		}
		sort.Strings(t.Features)
		o.Tests = append(o.Tests, t)
	}
	sort.Slice(o.Tests, func(i, j int) bool { return o.Tests[i].Name < o.Tests[j].Name })
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		os.Exit(1)
	}
}
