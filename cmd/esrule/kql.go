package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/output"
)

func newKQLCommand(g *globalOptions) *cobra.Command {
	var fieldsFile, index string
	var untyped bool
	cmd := &cobra.Command{
		Use:   "kql [--fields FILE | --index PATTERN] [--untyped] QUERY",
		Short: "Print the query DSL Kibana builds for a KQL query",
		Long:  longHelp("kql"),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fieldsFile != "" && index != "" {
				return usagef("--fields and --index exclude each other")
			}
			if untyped && (fieldsFile != "" || index != "") {
				return usagef("--untyped excludes --fields and --index")
			}
			n, err := kql.Parse(args[0])
			if err != nil {
				return kqlUsageError(err)
			}
			var fields []kql.FieldSpec
			switch {
			case fieldsFile != "":
				if fields, err = kql.ReadFieldSpecs(fieldsFile); err != nil {
					return usageError{err}
				}
			case index != "":
				c, err := g.client()
				if err != nil {
					return err
				}
				fields, err = c.FieldCaps(cmd.Context(), strings.Split(index, ","), kql.FieldNames(n))
				if err != nil {
					return fmt.Errorf("load field types: %w", err)
				}
			}
			dsl, err := kql.ToDSL(n, kql.DetectionEngine(fields))
			if err != nil {
				return kqlUsageError(err)
			}
			return output.Indented(cmd.OutOrStdout(), dsl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fieldsFile, "fields", "", "JSON file with an array of field descriptions (name, type, esTypes, subType; see --help)")
	f.StringVar(&index, "index", "", "index patterns (comma-separated) whose _field_caps give the field types")
	f.BoolVar(&untyped, "untyped", false, "translate without field types (Kibana 8.8 and older)")
	return cmd
}

// kqlUsageError makes a rejected query an exit-2 error; a syntax error shows
// the query with a caret under the problem, like Kibana.
func kqlUsageError(err error) error {
	var se *kql.SyntaxError
	if errors.As(err, &se) {
		return usagef("invalid KQL: %w\n%s", err, se.Pointer())
	}
	return usagef("invalid KQL for these fields: %w", err)
}
