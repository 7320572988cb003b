package demo

import (
	"sync/atomic"
	"testing"
)

// BenchmarkGenerate measures rendering throughput (docs/s, one goroutine).
func BenchmarkGenerate(b *testing.B) {
	for _, lean := range []bool{false, true} {
		b.Run(map[bool]string{false: "full", true: "lean"}[lean], func(b *testing.B) {
			g, err := New(Config{Seed: 1, End: testEnd, Days: 8, Users: 1000, Scenarios: true, Lean: lean})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			docs, bytes := 0, 0
			for b.Loop() {
				if err := g.Each(func(d Doc) error {
					docs++
					bytes += len(d.Body)
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(float64(bytes)/float64(docs), "bytes/doc")
		})
	}
}

// BenchmarkGenerateParallel uses EachParallel with two goroutines.
func BenchmarkGenerateParallel(b *testing.B) {
	g, err := New(Config{Seed: 1, End: testEnd, Days: 8, Users: 1000, Scenarios: true})
	if err != nil {
		b.Fatal(err)
	}
	var docs atomic.Int64
	for b.Loop() {
		if err := g.EachParallel(2, func(Doc) error { docs.Add(1); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(docs.Load())/b.Elapsed().Seconds(), "docs/s")
}
