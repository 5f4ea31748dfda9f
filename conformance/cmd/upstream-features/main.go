// Command upstream-features prints, as JSON, every conformance feature of the pinned
// Gateway API release (name, channel) and every conformance test (short name,
// features, provisional). The feature-registry check compares features.yaml with it.
package main

import (
	"encoding/json"
	"os"
	"sort"

	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/pkg/consts"
	"sigs.k8s.io/gateway-api/pkg/features"
)

type feature struct {
	Name    string `json:"name"`
	Channel string `json:"channel"`
}

type test struct {
	Name        string   `json:"name"`
	Features    []string `json:"features"`
	Provisional bool     `json:"provisional"`
}

type out struct {
	Version  string    `json:"version"`
	Features []feature `json:"features"`
	Tests    []test    `json:"tests"`
}

func main() {
	o := out{Version: consts.BundleVersion}
	for _, f := range features.AllFeatures.UnsortedList() {
		o.Features = append(o.Features, feature{Name: string(f.Name), Channel: string(f.Channel)})
	}
	sort.Slice(o.Features, func(i, j int) bool { return o.Features[i].Name < o.Features[j].Name })
	for _, ct := range tests.ConformanceTests {
		t := test{Name: ct.ShortName, Provisional: ct.Provisional}
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
