// Package suite runs the upstream Gateway API conformance suite, unmodified, with
// the flags conformance/scripts/conformance.sh passes.
package suite

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
