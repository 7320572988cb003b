// Package output holds what esrule's commands print: the --format flag
// (table for people, json for programs: one JSON object per line for
// lists), the JSON lines encoder, and the tables and texts of the commands'
// data (summaries of run and backfill, alerts, rules and their state, rule
// explanations, demo scenarios), with everything that comes from source
// data or rule files escaped for the terminal (Printable).
package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/esrule/esrule/mappings"
)

// The values of --format.
const (
	Table = "table"
	JSON  = "json"
)

// Formats returns the values of --format.
func Formats() []string { return []string{Table, JSON} }

// AddFormatFlag registers --format on f with default def (Table or JSON).
func AddFormatFlag(f *pflag.FlagSet, p *string, def string) {
	f.StringVar(p, "format", def, "output format: table (for people) or json (one JSON object per line; docs/output.md)")
}

// CheckFormat refuses a --format value other than table or json.
func CheckFormat(s string) error {
	if s == Table || s == JSON {
		return nil
	}
	return fmt.Errorf("--format %q: want table or json", s)
}

// Lines writes values as JSON lines (NDJSON).
type Lines struct{ enc *json.Encoder }

// NewLines returns a JSON lines writer on w; HTML characters are not escaped.
func NewLines(w io.Writer) *Lines {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &Lines{enc: enc}
}

// Write writes v as one line.
func (l *Lines) Write(v any) error {
	if err := l.enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON line: %w", err)
	}
	return nil
}

// SetupResult returns the printer of setup's results on w: one line per
// object, marked as not written in a dry run.
func SetupResult(w io.Writer, dryRun bool) func(mappings.Result) {
	return func(r mappings.Result) {
		if dryRun {
			fmt.Fprintf(w, "%s (dry run: not written)\n", r)
			return
		}
		fmt.Fprintln(w, r)
	}
}

// Indented writes v as indented JSON (two spaces) and a newline.
func Indented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
