package summary

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/tests"
)

func ev(action, test string, elapsed float64) string {
	return fmt.Sprintf(`{"Time":"2026-11-30T00:00:%02dZ","Action":%q,"Package":"p","Test":%q,"Elapsed":%g}`+"\n",
		int(elapsed), action, test, elapsed)
}

var (
	testTests = []Test{
		{Name: "CoreA", Features: []string{"Gateway", "HTTPRoute"}},
		{Name: "CoreB", Features: []string{"Gateway", "HTTPRoute"}},
		{Name: "ExtC", Features: []string{"Gateway", "HTTPRoute", "HTTPRouteQueryParamMatching"}},
		{Name: "ExtD", Features: []string{"Gateway", "HTTPRoute", "HTTPRouteMethodMatching"}},
		{Name: "TLSE", Features: []string{"Gateway", "TLSRoute"}},
		{Name: "CoreF", Features: []string{"Gateway", "HTTPRoute"}},
	}
	testProfiles = map[string]Profile{
		"GATEWAY-HTTP": {Name: "GATEWAY-HTTP", Core: sets.New("Gateway", "HTTPRoute", "ReferenceGrant"),
			Extended: sets.New("HTTPRouteQueryParamMatching", "HTTPRouteMethodMatching")},
		"GATEWAY-TLS": {Name: "GATEWAY-TLS", Core: sets.New("Gateway", "TLSRoute", "ReferenceGrant"), Extended: sets.New[string]()},
	}
)

func parse(t *testing.T, lines ...string) *Run {
	t.Helper()
	run, err := ParseEvents(strings.NewReader(strings.Join(lines, "")))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestSummarize(t *testing.T) {
	run := parse(t,
		ev("run", "TestConformance", 0),
		ev("run", "TestConformance/CoreA", 0), ev("pass", "TestConformance/CoreA", 3),
		ev("run", "TestConformance/CoreB", 0), ev("fail", "TestConformance/CoreB", 30),
		ev("run", "TestConformance/CoreB/sub", 0), ev("pass", "TestConformance/CoreB/sub", 1),
		ev("run", "TestConformance/ExtC", 0), ev("pass", "TestConformance/ExtC", 2),
		ev("run", "TestConformance/ExtD", 0), ev("skip", "TestConformance/ExtD", 0),
		ev("run", "TestConformance/TLSE", 0), ev("skip", "TestConformance/TLSE", 0),
		ev("run", "TestConformance/CoreF", 0), // started, never finished
		"panic: something\n",
	)
	if len(run.Output) != 1 || run.TopAction != "" {
		t.Errorf("output %q, top %q", run.Output, run.TopAction)
	}
	got := Summarize(run, testTests, testProfiles, Options{
		Profiles: []string{"GATEWAY-HTTP"}, Supported: []string{"HTTPRouteQueryParamMatching"},
	})
	if len(got) != 1 {
		t.Fatalf("profiles: %+v", got)
	}
	h := got[0]
	if h.Core.Passed != 1 || h.Core.Failed != 1 || h.Core.Skipped != 0 || strings.Join(h.Core.FailedTests, ",") != "CoreB" {
		t.Errorf("core = %+v", h.Core)
	}
	if strings.Join(h.Core.Unfinished, ",") != "CoreF" {
		t.Errorf("unfinished = %v", h.Core.Unfinished)
	}
	if h.Extended.Passed != 1 || h.Extended.Failed != 0 {
		t.Errorf("extended = %+v", h.Extended)
	}
	// ExtD needs a feature not claimed; TLSE is in no profile that ran.
	if h.NotClaimed != 1 {
		t.Errorf("not claimed = %d, want 1", h.NotClaimed)
	}
}

func TestSummarizeRunTest(t *testing.T) {
	run := parse(t,
		ev("run", "TestConformance/CoreA", 0), ev("skip", "TestConformance/CoreA", 0),
		ev("run", "TestConformance/CoreB", 0), ev("pass", "TestConformance/CoreB", 5),
		ev("run", "TestConformance/ExtD", 0), ev("skip", "TestConformance/ExtD", 0),
		ev("fail", "TestConformance", 6),
	)
	got := Summarize(run, testTests, testProfiles, Options{Profiles: []string{"GATEWAY-HTTP"}, RunTest: "CoreB"})
	h := got[0]
	// Tests the suite skipped because of --run-test count as skipped (as in the
	// report); tests it never reached (CoreF, ExtC) do not count.
	if h.Core.Passed != 1 || h.Core.Skipped != 1 || len(h.Core.Unfinished) != 0 {
		t.Errorf("core = %+v", h.Core)
	}
	if run.TopAction != "fail" {
		t.Errorf("top action %q", run.TopAction)
	}
}

func TestAllFeaturesClaimsEverything(t *testing.T) {
	run := parse(t, ev("run", "TestConformance/ExtD", 0), ev("pass", "TestConformance/ExtD", 1))
	got := Summarize(run, testTests, testProfiles, Options{Profiles: []string{"GATEWAY-HTTP"}, AllFeatures: true})
	if got[0].NotClaimed != 0 || got[0].Extended.Passed != 1 {
		t.Errorf("with --all-features: %+v", got[0])
	}
}

func TestCompareAndRender(t *testing.T) {
	results := []ProfileResult{{Name: "GATEWAY-HTTP", Core: Counts{Passed: 2, Failed: 1, FailedTests: []string{"CoreB"}}}}
	report := &confv1.ConformanceReport{ProfileReports: []confv1.ProfileReport{{
		Name: "GATEWAY-HTTP", Core: confv1.Status{Statistics: confv1.Statistics{Passed: 2, Failed: 1}},
	}}}
	if d := Compare(results, report); len(d) != 0 {
		t.Errorf("equal counts reported as different: %v", d)
	}
	report.ProfileReports[0].Core.Passed = 3
	d := Compare(results, report)
	if len(d) != 1 || !strings.Contains(d[0], "2 passed/1 failed/0 skipped, the report 3/1/0") {
		t.Errorf("diff = %v", d)
	}
	var buf bytes.Buffer
	Render(&buf, results, nil, report, "r.yaml", []string{"the controller binary was missing"})
	out := buf.String()
	for _, want := range []string{"NOTE: the controller binary was missing", "GATEWAY-HTTP  core       2 passed   1 failed", "failed: CoreB", "disagree"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUpstreamHasTheProfiles(t *testing.T) {
	ts, ps := Upstream(tests.ConformanceTests)
	if len(ts) < 100 {
		t.Errorf("only %d upstream tests", len(ts))
	}
	for _, p := range []string{"GATEWAY-HTTP", "GATEWAY-TLS", "GATEWAY-GRPC", "GATEWAY-TCP", "GATEWAY-UDP"} {
		if !ps[p].Core.Has("Gateway") {
			t.Errorf("profile %s: core %v", p, ps[p].Core)
		}
	}
}
