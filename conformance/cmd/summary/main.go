// Command summary prints the one-screen summary of a conformance run from the
// suite's `go test -json` events and its report (see internal/summary).
//
//	summary --events=run.jsonl --report=report.yaml --profiles=GATEWAY-HTTP \
//	        --supported-features=A,B [--all-features] [--run-test=X] [--note=...]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/gateway-api/conformance/tests"

	"gatehouse.dev/gatehouse/conformance/internal/summary"
)

type notes []string

func (n *notes) String() string     { return strings.Join(*n, "; ") }
func (n *notes) Set(v string) error { *n = append(*n, v); return nil }

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func main() {
	events := flag.String("events", "", "go test -json output of the suite (required)")
	reportPath := flag.String("report", "", "the ConformanceReport the suite wrote")
	profiles := flag.String("profiles", "", "comma-separated profiles the suite ran")
	supported := flag.String("supported-features", "", "the --supported-features passed to the suite")
	all := flag.Bool("all-features", false, "the suite ran with --all-features")
	runTest := flag.String("run-test", "", "the --run-test passed to the suite")
	skipTests := flag.String("skip-tests", "", "the --skip-tests passed to the suite")
	var ns notes
	flag.Var(&ns, "note", "a line to print at the top (repeatable)")
	flag.Parse()
	if *events == "" {
		fmt.Fprintln(os.Stderr, "summary: --events is required")
		os.Exit(2)
	}
	f, err := os.Open(*events)
	if err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(1)
	}
	run, err := summary.ParseEvents(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(1)
	}
	upTests, upProfiles := summary.Upstream(tests.ConformanceTests)
	results := summary.Summarize(run, upTests, upProfiles, summary.Options{
		Profiles: split(*profiles), Supported: split(*supported), AllFeatures: *all,
		RunTest: *runTest, SkipTests: split(*skipTests),
	})
	report, err := summary.ReadReport(*reportPath)
	if err != nil {
		ns = append(ns, fmt.Sprintf("no report: %v", err))
		report = nil
	}
	summary.Render(os.Stdout, results, run, report, *reportPath, ns)
}
