package demo

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Generator produces the documents of one Config. It is cheap to create and
// holds only the scenarios' events in memory; Each streams everything else.
type Generator struct {
	cfg       Config
	start     time.Time
	cat       *catalog
	scenarios []*scenarioRun
}

// New validates cfg and prepares a generator.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Generator{cfg: cfg, start: cfg.Start()}
	g.cat = newCatalog(cfg.Seed, g.start, cfg.End)
	if cfg.Scenarios {
		runs, err := g.buildScenarios()
		if err != nil {
			return nil, err
		}
		g.scenarios = runs
	}
	return g, nil
}

// Config returns the configuration with defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// Each calls fn for every document, in a fixed order: system principals and
// the service desk, then background users one by one, then scenarios. Only
// one user's events are in memory at a time. It stops at fn's first error.
func (g *Generator) Each(fn func(Doc) error) error {
	return g.each(func(e *event) error { return fn(g.render(e)) })
}

// Count returns the number of documents Each produces, without rendering them.
func (g *Generator) Count() (int, error) {
	n := 0
	err := g.each(func(*event) error { n++; return nil })
	return n, err
}

// EachParallel is Each with the users split over workers goroutines: the
// same documents, in an unspecified order; fn must be safe for concurrent
// use (Load's is). It stops at fn's first error.
func (g *Generator) EachParallel(workers int, fn func(Doc) error) error {
	if workers <= 1 {
		return g.Each(fn)
	}
	var (
		mu       sync.Mutex
		firstErr error
		stopped  atomic.Bool
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
		stopped.Store(true)
	}
	for w := range workers {
		wg.Go(func() {
			err := g.eachPart(w, workers, func(e *event) error {
				if stopped.Load() {
					return errStopped
				}
				return fn(g.render(e))
			})
			if err != nil && !errors.Is(err, errStopped) {
				fail(err)
			}
		})
	}
	wg.Wait()
	return firstErr
}

var errStopped = errors.New("stopped after another worker's error")

func (g *Generator) each(fn func(*event) error) error { return g.eachPart(0, 1, fn) }

// eachPart writes part k of n: users i with i%n == k; part 0 also has the
// system principals, the service desk and the scenarios.
func (g *Generator) eachPart(k, n int, fn func(*event) error) error {
	flush := func(b *builder) error {
		for _, e := range b.events {
			if !g.inPeriod(e) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		b.events = b.events[:0]
		return nil
	}
	if k == 0 {
		if err := g.eachShared(fn, flush); err != nil {
			return err
		}
	}
	for i := k; i < g.cfg.Users; i += n {
		p := newPerson(g.cfg.Seed, streamUser, i, g.cat, g.cfg.Days)
		b := &builder{g: g, r: newRand(g.cfg.Seed, streamUser, uint64(1)<<32|uint64(i))}
		b.personDays(p)
		if err := flush(b); err != nil {
			return err
		}
	}
	if k == 0 {
		for _, s := range g.scenarios {
			for _, e := range s.events {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// eachShared writes the system principals' and the service desk's events.
func (g *Generator) eachShared(fn func(*event) error, flush func(*builder) error) error {
	b := &builder{g: g, r: newRand(g.cfg.Seed, streamSystem, 0)}
	b.systemEvents()
	if err := flush(b); err != nil {
		return err
	}
	for i, admin := range g.staff() {
		b := &builder{g: g, r: newRand(g.cfg.Seed, streamStaff, uint64(1000+i))}
		b.helpDeskDays(admin)
		if err := flush(b); err != nil {
			return err
		}
	}
	return nil
}

// inPeriod reports whether e was published in the period and had arrived by
// its end.
func (g *Generator) inPeriod(e *event) bool {
	return !e.published.Before(g.start) && e.published.Before(g.cfg.End) && e.ingested.Before(g.cfg.End)
}

func (g *Generator) render(e *event) Doc {
	w := jsonWriter{buf: make([]byte, 0, 4096)}
	e.render(&w, renderOptions{namespace: g.cfg.Namespace, filebeat: g.cfg.Filebeat, lean: g.cfg.Lean})
	return Doc{Index: g.index(e.published), ID: e.uuid, Body: w.buf}
}

func (g *Generator) index(published time.Time) string {
	if g.cfg.Filebeat {
		return g.cfg.FilebeatPrefix + "-" + published.UTC().Format("2006.01.02")
	}
	return "logs-okta.system-" + g.cfg.Namespace
}

// Indices lists every index Each writes to.
func (g *Generator) Indices() []string {
	if !g.cfg.Filebeat {
		return []string{g.index(g.start)}
	}
	var out []string
	for d := g.start.Truncate(24 * time.Hour); d.Before(g.cfg.End); d = d.Add(24 * time.Hour) {
		out = append(out, g.index(d))
	}
	return out
}

// String describes the generator for logs.
func (g *Generator) String() string {
	return fmt.Sprintf("okta demo seed=%d days=%d users=%d end=%s", g.cfg.Seed, g.cfg.Days, g.cfg.Users, g.cfg.End.Format(time.RFC3339))
}
