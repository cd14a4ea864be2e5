package testutil

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// MatchingMetrics returns the samples of the metric family name whose labels
// include labels (every given label has the given value; a nil or empty
// labels matches every sample).
func MatchingMetrics(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) []*dto.Metric {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var out []*dto.Metric
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// MetricValue sums the samples of the named counter or gauge whose labels
// include labels (nil matches every sample). It is 0 if none match.
func MetricValue(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	var sum float64
	for _, m := range MatchingMetrics(t, g, name, labels) {
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

// HistogramCount is the number of observations of the named histogram whose
// labels include labels (nil matches every sample).
func HistogramCount(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) uint64 {
	t.Helper()
	var n uint64
	for _, m := range MatchingMetrics(t, g, name, labels) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}
