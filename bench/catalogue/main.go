// Command catalogue measures how much of Elastic's detection-rules catalogue
// esrule runs: for every new_terms rule file below --dir (a checkout of
// github.com/elastic/detection-rules, _deprecated included) it loads the
// file, explains the rule (window, query filter and every phase request)
// and executes it once, as a dry run, against a real Elasticsearch index
// mapped with ECS types that holds one synthetic document per rule (built
// from the positive part of the rule's query and filters). It prints one
// table; rules that fail are listed with the error.
//
//	go run ./bench/catalogue --dir /path/to/detection-rules
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/bench/internal/benchkit"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/ecsindex"
	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/catalogue:", err)
		os.Exit(1)
	}
}

// outcome is what happened to one rule file.
type outcome struct {
	file                        string
	loaded, explained, executed bool
	alerts                      int
	err                         string
}

func run() error {
	var dir, esURL, ecsPath, at string
	var keep bool
	flag.StringVar(&dir, "dir", "", "detection-rules checkout (rules are searched below it)")
	flag.StringVar(&esURL, "es", benchkit.EnvOr("ELASTICSEARCH_URL", "http://127.0.0.1:9250"), "Elasticsearch URL")
	flag.StringVar(&ecsPath, "ecs", "alerts/ecs_fields.tsv", "ECS field table")
	flag.StringVar(&at, "at", "2026-01-01T00:00:00Z", "slot time (a multiple of every rule interval)")
	flag.BoolVar(&keep, "keep", false, "keep the index afterwards")
	flag.Parse()
	if dir == "" {
		return errors.New("--dir is required")
	}
	slot, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return fmt.Errorf("--at: %w", err)
	}
	tsv, err := os.ReadFile(ecsPath)
	if err != nil {
		return fmt.Errorf("read ECS field table: %w", err)
	}
	types, err := ecsindex.Types(string(tsv))
	if err != nil {
		return err
	}
	files, err := newTermsFiles(dir)
	if err != nil {
		return err
	}
	extras := integrationExtras(files)
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	ctx := context.Background()
	index := "esrule-catalogue-" + randomHex()
	mapping := ecsindex.Mapping(types)
	extras.Apply(mapping)
	settings := extras.Settings()
	settings["number_of_shards"], settings["number_of_replicas"] = 1, 0
	settings["index.mapping.total_fields.limit"] = 20000
	body, _ := json.Marshal(map[string]any{"settings": settings, "mappings": mapping})
	if err := benchkit.Call(ctx, c, "PUT", "/"+index, string(body)); err != nil {
		return fmt.Errorf("create index %s: %w", index, err)
	}
	if !keep {
		defer func() { _ = benchkit.Call(ctx, c, "DELETE", "/"+index, "") }()
	}

	// Load and explain every file; build its document.
	outcomes := make([]*outcome, len(files))
	loaded := make([]*rule.Rule, len(files))
	var bulk bytes.Buffer
	for i, f := range files {
		o := &outcome{file: strings.TrimPrefix(f, dir+"/")}
		outcomes[i] = o
		rules, err := rule.Load([]string{f})
		if err != nil {
			o.err = err.Error()
			continue
		}
		o.loaded = true
		r := rules[0]
		loaded[i] = r
		s := newSynth(types)
		if r.Language != "lucene" {
			if n, err := kql.Parse(r.Query); err == nil {
				s.node(n)
			}
		}
		s.filters(r)
		for _, nt := range r.NewTermsFields {
			if _, ok := s.doc[nt]; !ok {
				s.set(nt, s.sample(nt))
			}
		}
		ts := slot.Add(-30 * time.Second).Format(time.RFC3339)
		s.doc["@timestamp"], s.doc["event.ingested"] = ts, ts
		s.doc["labels.esrule_rule_id"] = r.RuleID
		meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": index}})
		doc, _ := json.Marshal(s.doc)
		bulk.Write(meta)
		bulk.WriteByte('\n')
		bulk.Write(doc)
		bulk.WriteByte('\n')
	}
	if err := bulkIndex(ctx, c, bulk.Bytes()); err != nil {
		return err
	}

	ec, err := esclient.New(esclient.Config{Addresses: []string{esURL}})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	fieldCaps := detect.FieldCapsFunc(ec.FieldCaps)
	ex := &detect.Executor{Searcher: ec, FieldCaps: fieldCaps, Logger: zerolog.Nop()}
	for i, r := range loaded {
		if r == nil {
			continue
		}
		o := outcomes[i]
		rc := *r
		rc.Index = []string{index}
		if err := explainRule(ctx, fieldCaps, &rc, slot); err != nil {
			o.err = err.Error()
			continue
		}
		o.explained = true
		ruleSlot, err := detect.SlotAt(&rc, slot)
		if err != nil {
			o.err = err.Error()
			continue
		}
		res, err := ex.Run(ctx, &rc, ruleSlot, detect.RunOptions{DryRun: true})
		if err != nil {
			o.err = err.Error()
			continue
		}
		o.executed = true
		o.alerts = len(res.Alerts)
	}
	return report(os.Stdout, outcomes)
}

// explainRule is `rules explain`: window, query filter and phase requests.
func explainRule(ctx context.Context, fc detect.FieldCapsFunc, r *rule.Rule, at time.Time) error {
	slot, err := detect.SlotAt(r, at)
	if err != nil {
		return err
	}
	w, err := detect.WindowAt(r, slot)
	if err != nil {
		return err
	}
	filter, err := detect.QueryFilter(ctx, fc, r)
	if err != nil {
		return err
	}
	_, err = detect.ExplainPhases(r, w, filter)
	return err
}

func report(out *os.File, outcomes []*outcome) error {
	var loaded, explained, executed, alerted int
	for _, o := range outcomes {
		if o.loaded {
			loaded++
		}
		if o.explained {
			explained++
		}
		if o.executed {
			executed++
		}
		if o.alerts > 0 {
			alerted++
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "new_terms rules\tloaded\texplained\texecuted\talerted on its synthetic document\t")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t\n", len(outcomes), loaded, explained, executed, alerted)
	if err := tw.Flush(); err != nil {
		return err
	}
	var failed, quiet []string
	for _, o := range outcomes {
		switch {
		case !o.executed:
			failed = append(failed, fmt.Sprintf("  %s: %s", o.file, o.err))
		case o.alerts == 0:
			quiet = append(quiet, "  "+o.file)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(out, "\nfailed (%d):\n%s\n", len(failed), strings.Join(failed, "\n"))
	}
	if len(quiet) > 0 {
		fmt.Fprintf(out, "\nexecuted without an alert: the synthetic document does not match (%d):\n%s\n", len(quiet), strings.Join(quiet, "\n"))
	}
	return nil
}

// newTermsFiles lists the .toml files below dir whose [rule] type is new_terms.
func newTermsFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != dir {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".toml") {
			return nil
		}
		var doc struct {
			Rule struct {
				Type string `toml:"type"`
			} `toml:"rule"`
		}
		if _, err := toml.DecodeFile(path, &doc); err == nil && doc.Rule.Type == rule.TypeNewTerms {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func bulkIndex(ctx context.Context, c *elasticsearch.Client, body []byte) error {
	res, err := c.Bulk(bytes.NewReader(body), c.Bulk.WithContext(ctx), c.Bulk.WithRefresh("true"))
	if err != nil {
		return fmt.Errorf("index synthetic documents: %w", err)
	}
	defer res.Body.Close()
	var r struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Error json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return fmt.Errorf("decode bulk response: %w", err)
	}
	if r.Errors {
		for i, it := range r.Items {
			for _, v := range it {
				if len(v.Error) > 0 {
					return fmt.Errorf("index synthetic document %d: %s", i, v.Error)
				}
			}
		}
	}
	return nil
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// integrationExtras collects what the rules need beyond ECS, as their
// integrations map it: the paths of KQL nested queries and the .caseless
// multi-fields.
func integrationExtras(files []string) ecsindex.Extras {
	var e ecsindex.Extras
	seen := map[string]bool{}
	for _, f := range files {
		rules, err := rule.Load([]string{f})
		if err != nil || rules[0].Language == "lucene" {
			continue
		}
		n, err := kql.Parse(rules[0].Query)
		if err != nil {
			continue
		}
		for _, name := range kql.FieldNames(n) {
			if strings.HasSuffix(name, ".caseless") && !seen[name] {
				seen[name] = true
				e.Caseless = append(e.Caseless, name)
			}
		}
		walkNested(n, func(path string) {
			if !seen[path] {
				seen[path] = true
				e.Nested = append(e.Nested, path)
			}
		})
	}
	return e
}

func walkNested(n kql.Node, fn func(string)) {
	switch x := n.(type) {
	case *kql.AndNode:
		for _, c := range x.Children {
			walkNested(c, fn)
		}
	case *kql.OrNode:
		for _, c := range x.Children {
			walkNested(c, fn)
		}
	case *kql.NotNode:
		walkNested(x.Child, fn)
	case *kql.NestedNode:
		if p, ok := literalString(x.Path); ok {
			fn(p)
		}
	}
}
