// Command promtext parses the Prometheus text exposition format with the Prometheus project's
// own parser (github.com/prometheus/common/expfmt) and prints every sample as JSON, so the
// TypeScript tests check /metrics with a real parser. It reads stdin and exits 1 with the
// parser's message when the input is not valid.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type sample struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Value  string            `json:"value"`
}

type family struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

func format(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func labels(pairs []*dto.LabelPair, extra ...string) map[string]string {
	result := make(map[string]string, len(pairs)+len(extra)/2)
	for _, pair := range pairs {
		result[pair.GetName()] = pair.GetValue()
	}
	for i := 0; i+1 < len(extra); i += 2 {
		result[extra[i]] = extra[i+1]
	}
	return result
}

func samples(mf *dto.MetricFamily) []sample {
	name := mf.GetName()
	out := []sample{}
	for _, m := range mf.GetMetric() {
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			out = append(out, sample{name, labels(m.GetLabel()), format(m.GetCounter().GetValue())})
		case dto.MetricType_GAUGE:
			out = append(out, sample{name, labels(m.GetLabel()), format(m.GetGauge().GetValue())})
		case dto.MetricType_UNTYPED:
			out = append(out, sample{name, labels(m.GetLabel()), format(m.GetUntyped().GetValue())})
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			for _, q := range s.GetQuantile() {
				out = append(out, sample{name, labels(m.GetLabel(), "quantile", format(q.GetQuantile())), format(q.GetValue())})
			}
			out = append(out, sample{name + "_sum", labels(m.GetLabel()), format(s.GetSampleSum())})
			out = append(out, sample{name + "_count", labels(m.GetLabel()), strconv.FormatUint(s.GetSampleCount(), 10)})
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			for _, b := range h.GetBucket() {
				out = append(out, sample{name + "_bucket", labels(m.GetLabel(), "le", format(b.GetUpperBound())), strconv.FormatUint(b.GetCumulativeCount(), 10)})
			}
			out = append(out, sample{name + "_sum", labels(m.GetLabel()), format(h.GetSampleSum())})
			out = append(out, sample{name + "_count", labels(m.GetLabel()), strconv.FormatUint(h.GetSampleCount(), 10)})
		}
	}
	return out
}

func main() {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	result := make([]family, 0, len(families))
	for _, mf := range families {
		result = append(result, family{mf.GetName(), mf.GetType().String(), mf.GetHelp(), samples(mf)})
	}
	sort.Slice(result, func(i, j int) bool { return result[i].Name < result[j].Name })
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
