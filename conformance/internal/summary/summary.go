// Package summary turns one run of the upstream conformance suite into the short
// per-profile summary `make conformance` prints. The results come from `go test
// -json` events (one per subtest, exact even for parallel tests); they are
// attributed to profiles with the suite's own rules and cross-checked against the
// ConformanceReport the suite wrote, so the printed summary and the report agree
// or the difference is shown.
package summary

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"
)

// Outcome is what go test said about one conformance test.
type Outcome struct {
	Action  string // pass, fail, skip; "" if the test never finished (timeout, crash)
	Elapsed time.Duration
}

// Run is the parsed event stream of one suite run.
type Run struct {
	Tests      map[string]Outcome // by short name
	Start, End time.Time
	TopAction  string // of TestConformance itself
	// SetupErrors are the assertion messages of TestConformance itself (not of a
	// test): why the suite's setup failed.
	SetupErrors []string
	Output      []string // lines that were not events (a crash)
}

type event struct {
	Time    time.Time
	Action  string
	Test    string
	Elapsed float64
	Output  string
}

const topTest = "TestConformance"

// ParseEvents reads `go test -json` (test2json) output. Lines that are not JSON
// (a crash message) are kept as output.
func ParseEvents(r io.Reader) (*Run, error) {
	run := &Run{Tests: map[string]Outcome{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			run.Output = append(run.Output, sc.Text())
			continue
		}
		if !e.Time.IsZero() {
			if run.Start.IsZero() || e.Time.Before(run.Start) {
				run.Start = e.Time
			}
			if e.Time.After(run.End) {
				run.End = e.Time
			}
		}
		switch e.Action {
		case "pass", "fail", "skip", "output":
		case "run":
			if name, ok := strings.CutPrefix(e.Test, topTest+"/"); ok {
				if _, seen := run.Tests[name]; !seen {
					run.Tests[name] = Outcome{}
				}
			}
			continue
		default:
			continue
		}
		if e.Action == "output" && e.Test == topTest {
			if m := strings.TrimSpace(e.Output); strings.HasPrefix(m, "Messages:") || strings.HasPrefix(m, "Error:") {
				run.SetupErrors = append(run.SetupErrors, strings.Join(strings.Fields(m), " "))
			}
		}
		d := time.Duration(e.Elapsed * float64(time.Second))
		if e.Action == "output" {
			continue
		}
		if e.Test == topTest {
			run.TopAction = e.Action
			continue
		}
		name, ok := strings.CutPrefix(e.Test, topTest+"/")
		if !ok || strings.Contains(name, "/") { // sub-subtests belong to their test
			continue
		}
		run.Tests[name] = Outcome{Action: e.Action, Elapsed: d}
	}
	return run, sc.Err()
}

// Options are the suite flags that decide which tests count.
type Options struct {
	Profiles    []string
	Supported   []string // --supported-features
	AllFeatures bool
	RunTest     string
	SkipTests   []string
}

// Test is the static description the summary needs of one conformance test.
type Test struct {
	Name        string
	Features    []string
	Provisional bool
}

// Profile is a conformance profile's core and extended features.
type Profile struct {
	Name     string
	Core     sets.Set[string]
	Extended sets.Set[string]
}

// Upstream returns the tests and profiles of the pinned suite.
func Upstream(tests []suite.ConformanceTest) ([]Test, map[string]Profile) {
	var out []Test
	for _, t := range tests {
		tt := Test{Name: t.ShortName, Provisional: t.Provisional}
		for _, f := range t.Features {
			tt.Features = append(tt.Features, string(f))
		}
		out = append(out, tt)
	}
	profiles := map[string]Profile{}
	for _, p := range []suite.ConformanceProfile{
		suite.GatewayHTTPConformanceProfile, suite.GatewayTLSConformanceProfile,
		suite.GatewayTCPConformanceProfile, suite.GatewayUDPConformanceProfile,
		suite.GatewayGRPCConformanceProfile, suite.MeshHTTPConformanceProfile,
		suite.MeshGRPCConformanceProfile,
	} {
		profiles[string(p.Name)] = Profile{Name: string(p.Name), Core: names(p.CoreFeatures), Extended: names(p.ExtendedFeatures)}
	}
	return out, profiles
}

func names(s sets.Set[features.FeatureName]) sets.Set[string] {
	out := sets.New[string]()
	for f := range s {
		out.Insert(string(f))
	}
	return out
}

// AllFeatureNames is every feature of the pinned release.
func AllFeatureNames() []string {
	var out []string
	for _, f := range features.AllFeatures.UnsortedList() {
		out = append(out, string(f.Name))
	}
	sort.Strings(out)
	return out
}

// Counts are the results of one half (core or extended) of a profile.
type Counts struct {
	Passed, Failed, Skipped int
	FailedTests             []string
	SkippedTests            []string
	Unfinished              []string // started but never reported (timeout or crash)
	Elapsed                 time.Duration
}

// ProfileResult is the summary of one profile.
type ProfileResult struct {
	Name       string
	Core       Counts
	Extended   Counts
	NotClaimed int // tests of this profile skipped because a feature is not claimed
}

// Summarize attributes each test's outcome to the profiles it counts for, with the
// rules of the pinned suite (suite.go Run/Report, profiles.go, reports.go).
func Summarize(run *Run, tests []Test, profiles map[string]Profile, opts Options) []ProfileResult {
	supported := sets.New(opts.Supported...)
	if opts.AllFeatures {
		supported = sets.New(AllFeatureNames()...)
	}
	for _, name := range opts.Profiles {
		if p, ok := profiles[name]; ok {
			supported = supported.Union(p.Core)
		}
	}
	skip := sets.New(opts.SkipTests...)
	var out []ProfileResult
	for _, pname := range opts.Profiles {
		p, ok := profiles[pname]
		if !ok {
			continue
		}
		res := ProfileResult{Name: pname}
		for _, t := range tests {
			if !inProfile(t, p) {
				continue
			}
			counts := &res.Core
			for _, f := range t.Features {
				if !p.Core.Has(f) {
					counts = &res.Extended
					break
				}
			}
			if !supported.HasAll(t.Features...) {
				res.NotClaimed++
				continue
			}
			explicitSkip := (opts.RunTest != "" && t.Name != opts.RunTest) || skip.Has(t.Name)
			o, seen := run.Tests[t.Name]
			switch {
			case !seen:
				// The suite never reached it (setup failed, or it stopped early).
				if !explicitSkip {
					counts.Unfinished = append(counts.Unfinished, t.Name)
				}
				continue
			case explicitSkip:
				counts.Skipped++
				counts.SkippedTests = append(counts.SkippedTests, t.Name)
				continue
			}
			counts.Elapsed += o.Elapsed
			switch {
			case o.Action == "pass":
				counts.Passed++
			case o.Action == "fail":
				counts.Failed++
				counts.FailedTests = append(counts.FailedTests, t.Name)
			case o.Action == "skip":
				counts.Skipped++
				counts.SkippedTests = append(counts.SkippedTests, t.Name)
			default:
				counts.Unfinished = append(counts.Unfinished, t.Name)
			}
		}
		out = append(out, res)
	}
	return out
}

func inProfile(t Test, p Profile) bool {
	for _, f := range t.Features {
		if !p.Core.Has(f) && !p.Extended.Has(f) {
			return false
		}
	}
	return true
}

// ReadReport loads a ConformanceReport written by the suite.
func ReadReport(path string) (*confv1.ConformanceReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r confv1.ConformanceReport
	if err := yaml.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Compare lists every difference between the go test view and the report.
func Compare(results []ProfileResult, report *confv1.ConformanceReport) []string {
	var diffs []string
	byName := map[string]confv1.ProfileReport{}
	for _, p := range report.ProfileReports {
		byName[p.Name] = p
	}
	for _, r := range results {
		rep, ok := byName[r.Name]
		if !ok {
			if r.Core.Passed+r.Core.Failed+r.Core.Skipped+r.Extended.Passed+r.Extended.Failed+r.Extended.Skipped > 0 {
				diffs = append(diffs, fmt.Sprintf("%s: missing from the report", r.Name))
			}
			continue
		}
		cmp := func(half string, c Counts, s confv1.Status) {
			if c.Passed != int(s.Passed) || c.Failed != int(s.Failed) || c.Skipped != int(s.Skipped) {
				diffs = append(diffs, fmt.Sprintf("%s %s: go test says %d passed/%d failed/%d skipped, the report %d/%d/%d",
					r.Name, half, c.Passed, c.Failed, c.Skipped, s.Passed, s.Failed, s.Skipped))
			}
		}
		cmp("core", r.Core, rep.Core)
		var ext confv1.Status
		if rep.Extended != nil {
			ext = rep.Extended.Status
		}
		cmp("extended", r.Extended, ext)
	}
	return diffs
}

// Render prints the summary. notes are printed first (e.g. "the controller binary
// was missing").
func Render(w io.Writer, results []ProfileResult, run *Run, report *confv1.ConformanceReport, reportPath string, notes []string) {
	bar := strings.Repeat("=", 78)
	fmt.Fprintln(w, bar)
	if report != nil {
		fmt.Fprintf(w, "Gateway API %s conformance (%s channel, mode %s) of %s/%s %s\n",
			report.GatewayAPIVersion, report.GatewayAPIChannel, report.Mode,
			report.Implementation.Organization, report.Implementation.Project, report.Implementation.Version)
		fmt.Fprintf(w, "report: %s\n", reportPath)
	} else {
		fmt.Fprintf(w, "Gateway API conformance: NO REPORT at %s (the suite did not finish)\n", reportPath)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "NOTE: %s\n", n)
	}
	if run != nil && !run.Start.IsZero() {
		fmt.Fprintf(w, "suite time: %s (result: %s)\n", run.End.Sub(run.Start).Round(time.Second), orUnknown(run.TopAction))
		for i, m := range run.SetupErrors {
			if i == 4 {
				break
			}
			fmt.Fprintf(w, "suite: %s\n", m)
		}
	}
	for _, r := range results {
		fmt.Fprintln(w, strings.Repeat("-", 78))
		fmt.Fprintf(w, "%-13s core     %3d passed %3d failed %3d skipped   (%s)\n", r.Name,
			r.Core.Passed, r.Core.Failed, r.Core.Skipped, r.Core.Elapsed.Round(time.Second))
		fmt.Fprintf(w, "%-13s extended %3d passed %3d failed %3d skipped   (%s)\n", "",
			r.Extended.Passed, r.Extended.Failed, r.Extended.Skipped, r.Extended.Elapsed.Round(time.Second))
		if r.NotClaimed > 0 {
			fmt.Fprintf(w, "%-13s %d more tests not run: they need features not claimed\n", "", r.NotClaimed)
		}
		failed := append(append([]string{}, r.Core.FailedTests...), r.Extended.FailedTests...)
		if len(failed) > 0 {
			fmt.Fprintf(w, "  failed: %s\n", wrap(failed, 70, "          "))
		}
		unfinished := append(append([]string{}, r.Core.Unfinished...), r.Extended.Unfinished...)
		if len(unfinished) > 0 {
			const show = 12
			more := ""
			if len(unfinished) > show {
				more = fmt.Sprintf(" and %d more", len(unfinished)-show)
				unfinished = unfinished[:show]
			}
			fmt.Fprintf(w, "  never ran or never finished: %s%s\n", wrap(unfinished, 50, "                               "), more)
		}
	}
	fmt.Fprintln(w, strings.Repeat("-", 78))
	if report != nil {
		if diffs := Compare(results, report); len(diffs) > 0 {
			fmt.Fprintln(w, "WARNING: the report and go test disagree (go test is exact):")
			for _, d := range diffs {
				fmt.Fprintf(w, "  %s\n", d)
			}
		} else {
			fmt.Fprintln(w, "the report's counts match go test's results")
		}
	}
	fmt.Fprintln(w, bar)
}

func orUnknown(s string) string {
	if s == "" {
		return "did not finish"
	}
	return s
}

func wrap(items []string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, it := range items {
		if i > 0 {
			if line+len(it)+2 > width {
				b.WriteString(",\n" + indent)
				line = 0
			} else {
				b.WriteString(", ")
				line += 2
			}
		}
		b.WriteString(it)
		line += len(it)
	}
	return b.String()
}
