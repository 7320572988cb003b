package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/mappings"
)

// SeedOptions are the options of Seed.
type SeedOptions struct {
	// Template installs the Okta demo index template first.
	Template bool
	// Generators is the number of goroutines generating documents.
	Generators int
	// Load configures the bulk load; Total is set by Seed.
	Load LoadConfig
	// Reporter, when set, returns the progress reporter of a load of total
	// documents (Load.Report otherwise).
	Reporter func(total int64) func(LoadProgress)
}

// Seed is esrule demo load: it installs the Okta demo index template (with
// Template, zero replicas), then bulk-loads every document of g into its
// indices with the create action, and logs what it loaded.
func Seed(ctx context.Context, t esapi.Transport, g *Generator, o SeedOptions) error {
	if o.Template {
		zero := 0
		if err := mappings.EnsureOktaDemo(ctx, t, &zero); err != nil {
			return fmt.Errorf("install the Okta demo template: %w", err)
		}
	}
	total, err := g.Count()
	if err != nil {
		return fmt.Errorf("count documents: %w", err)
	}
	cfg := o.Load
	cfg.Total = int64(total)
	if o.Reporter != nil {
		cfg.Report = o.Reporter(cfg.Total)
	}
	each := func(yield func(Doc) error) error { return g.EachParallel(o.Generators, yield) }
	stats, err := Load(ctx, t, g.Indices(), each, cfg)
	cfg.Logger.Info().Str("generator", g.String()).Strs("indices", g.Indices()).
		Int64("created", stats.Created).Int64("duplicates", stats.Duplicates).Int64("retried", stats.Retried).
		Uint64("bytes", stats.Bytes).Uint64("requests", stats.Requests).Int64("took_ms", stats.Elapsed.Milliseconds()).
		Float64("docs_per_second", stats.DocsPerSecond()).Msg("loaded demo data")
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	return nil
}

// WriteExpected runs the built-in rule's semantics by brute force over the
// whole period of g (Oracle) and writes its alerts as JSON lines, in slot
// order.
func WriteExpected(w io.Writer, g *Generator) error {
	oracle := &Oracle{}
	if err := g.Each(oracle.Add); err != nil {
		return fmt.Errorf("read generated documents: %w", err)
	}
	cfg := g.Config()
	enc := json.NewEncoder(w)
	for _, a := range oracle.Alerts(cfg.Start(), cfg.End) {
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("write alert: %w", err)
		}
	}
	return nil
}
