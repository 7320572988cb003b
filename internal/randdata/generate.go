package randdata

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Base is the first slot of every small dataset (a multiple of 5 minutes, UTC).
var Base = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Config selects a small randomized dataset. Zero fields are derived from Seed.
type Config struct {
	Seed        uint64
	IndexPrefix string        // concrete indices are IndexPrefix-a, -b, -c; the pattern is IndexPrefix-*
	Docs        int           // random documents, besides the boundary ones; default 300
	Slots       int           // consecutive slots; default 4
	Fields      []string      // new-terms fields; default 1–3 fields chosen from the seed
	Mode        TimestampMode // default from the seed
	MaxSignals  int           // default: 2–4 for one seed in five, else 100
	History     time.Duration // default 30m, 1h or 2h
	Lookback    time.Duration // default 6m or 9m
}

// Dataset is a generated set of events with the rule and slots it was made for.
type Dataset struct {
	Seed    uint64
	Rule    RuleSpec
	Pattern string         // index pattern of the rule, e.g. prefix-*
	Indices map[string]int // concrete index name → number of shards
	Events  []Event
	Slots   []time.Time
}

// Describe is a one-line summary for test logs.
func (d Dataset) Describe() string {
	return fmt.Sprintf("seed=%d fields=%v mode=%s max_signals=%d history=%s lookback=%s slots=%d events=%d indices=%d",
		d.Seed, d.Rule.Fields, d.Rule.Mode, d.Rule.MaxSignals, d.Rule.History, d.Rule.Lookback,
		len(d.Slots), len(d.Events), len(d.Indices))
}

// Generate builds a small randomized dataset, identical for identical configs.
func Generate(cfg Config) Dataset {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	g := &generator{rng: rng, used: map[int64]bool{}, seed: cfg.Seed}
	spec := g.ruleSpec(cfg)
	prefix := cfg.IndexPrefix
	if prefix == "" {
		prefix = "randdata"
	}
	d := Dataset{Seed: cfg.Seed, Rule: spec, Pattern: prefix + "-*", Indices: map[string]int{}}
	nIdx := 2 + rng.IntN(2)
	for i := range nIdx {
		name := fmt.Sprintf("%s-%c", prefix, 'a'+i)
		g.indices = append(g.indices, name)
		d.Indices[name] = 1 + btoi(i == 0)
	}
	nSlots := cfg.Slots
	if nSlots == 0 {
		nSlots = 4
	}
	for i := range nSlots {
		d.Slots = append(d.Slots, Base.Add(time.Duration(i)*spec.Interval))
	}
	g.spec = spec
	g.first = spec.WindowAt(d.Slots[0])
	g.last = d.Slots[len(d.Slots)-1]

	g.boundaryDocs(d.Slots)
	docs := cfg.Docs
	if docs == 0 {
		docs = 300
	}
	for range docs {
		g.randomDoc()
	}
	d.Events = g.events
	return d
}

func (g *generator) ruleSpec(cfg Config) RuleSpec {
	s := RuleSpec{Fields: cfg.Fields, Interval: 5 * time.Minute, MaxSignals: cfg.MaxSignals,
		Mode: cfg.Mode, History: cfg.History, Lookback: cfg.Lookback, Query: Query}
	if s.Fields == nil {
		n := 1 + int(cfg.Seed%3)
		perm := g.rng.Perm(len(TermFields))
		for _, i := range perm {
			f := TermFields[i]
			if n == 1 && f.Type == Boolean {
				continue // single boolean fields are covered by a dedicated test
			}
			if len(s.Fields) < n {
				s.Fields = append(s.Fields, f.Name)
			}
		}
	}
	if s.Mode == ModeAuto {
		s.Mode = TimestampMode(1 + (cfg.Seed/3)%3)
	}
	if s.MaxSignals == 0 {
		s.MaxSignals = 100
		if cfg.Seed%5 == 0 {
			s.MaxSignals = 2 + g.rng.IntN(3)
		}
	}
	if s.History == 0 {
		s.History = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour}[g.rng.IntN(3)]
	}
	if s.Lookback == 0 {
		s.Lookback = []time.Duration{6 * time.Minute, 6 * time.Minute, 9 * time.Minute}[g.rng.IntN(3)]
	}
	return s
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
