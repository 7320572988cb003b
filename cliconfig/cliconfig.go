// Package cliconfig reads esrule's config file: a TOML file holding the
// value of any flag of any command. Top-level keys are the flags every
// command shares (log_level, rules); a table named after a command holds
// that command's flags ([serve] listen = ":9090", [rules.explain] typed =
// true). A subcommand's table may also be named by the command as typed,
// quoted (["rules explain"]): TOML cannot have both a top-level rules key
// (the --rules flag) and a [rules.explain] table. Keys are flag names with
// "-" or "_". Reserved tables (the
// connection settings in [elasticsearch]) are left to their owner. Unknown
// keys are refused with a suggestion.
package cliconfig

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/internal/inputbound"
	"github.com/esrule/esrule/internal/suggest"
)

// File is a decoded config file.
type File struct {
	Path   string
	values map[string]any
}

// Parse decodes data, the content of the config file at path (read and
// bounded by the caller).
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	if _, err := toml.Decode(string(data), &f.values); err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return f, nil
}

// Check refuses every key that is not a flag of the command its table
// names (root's persistent flags at the top level), except reserved
// top-level tables; all problems are listed, each with a suggestion.
func (f *File) Check(root *cobra.Command, reserved ...string) error {
	var problems []string
	f.check(root, root, f.values, "", reserved, &problems)
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return fmt.Errorf("config file %s: %s", f.Path, strings.Join(problems, "; "))
}

func (f *File) check(root, cmd *cobra.Command, table map[string]any, prefix string, reserved []string, problems *[]string) {
	for key, v := range table {
		if cmd == root && slices.Contains(reserved, key) {
			continue
		}
		if cmd == root && strings.Contains(key, " ") {
			if sub := commandAt(root, strings.Fields(key)); sub != nil {
				if inner, ok := v.(map[string]any); ok {
					f.check(root, sub, inner, tablePath(root, sub)+".", reserved, problems)
					continue
				}
			}
		}
		inner, isTable := v.(map[string]any)
		sub := subcommand(cmd, key)
		switch fl := flagOf(root, cmd, key); {
		case sub != nil && isTable:
			f.check(root, sub, inner, prefix+key+".", reserved, problems)
			continue
		case fl != nil && isTable:
			*problems = append(*problems, fmt.Sprintf("%s%s: a flag, not a table", prefix, key))
			continue
		case fl != nil:
			continue
		case sub != nil:
			*problems = append(*problems, fmt.Sprintf("%s%s: a command, want a table [%s%s]", prefix, key, prefix, key))
			continue
		}
		if canonical(key) == "config" {
			*problems = append(*problems, prefix+key+": a config file cannot name another one")
			continue
		}
		*problems = append(*problems, unknown(root, cmd, prefix, key))
	}
}

// unknown describes an unknown key: the closest known key of its table,
// or the commands that have such a flag.
func unknown(root, cmd *cobra.Command, prefix, key string) string {
	where := "at the top level"
	if prefix != "" {
		where = "in [" + strings.TrimSuffix(prefix, ".") + "]"
	}
	msg := fmt.Sprintf("unknown key %s%s %s", prefix, key, where)
	if s := suggest.Nearest(key, keysOf(root, cmd)); s != "" {
		return msg + fmt.Sprintf(" (did you mean %s?)", s)
	}
	if owners := commandsWithFlag(root, canonical(key)); len(owners) > 0 {
		return msg + fmt.Sprintf(" (a flag of %s: put it under [%s])", strings.Join(owners, ", "), owners[0])
	}
	return msg
}

// keysOf lists the keys a command's table accepts: its flags (with "_")
// and its subcommands.
func keysOf(root, cmd *cobra.Command) []string {
	var keys []string
	visit := func(fl *pflag.Flag) {
		if usable(fl) {
			keys = append(keys, strings.ReplaceAll(fl.Name, "-", "_"))
		}
	}
	if cmd == root {
		root.PersistentFlags().VisitAll(visit)
	} else {
		cmd.Flags().VisitAll(visit)
		cmd.InheritedFlags().VisitAll(visit)
	}
	for _, c := range cmd.Commands() {
		keys = append(keys, c.Name())
	}
	return keys
}

// commandsWithFlag lists the commands (space-separated paths below root)
// with a local flag name.
func commandsWithFlag(root *cobra.Command, name string) []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.LocalNonPersistentFlags().Lookup(name) != nil {
				out = append(out, tablePath(root, sub))
			}
			walk(sub)
		}
	}
	walk(root)
	return out
}

// tablePath is the table name of cmd: "rules.explain".
func tablePath(root, cmd *cobra.Command) string {
	var parts []string
	for c := cmd; c != nil && c != root; c = c.Parent() {
		parts = append([]string{c.Name()}, parts...)
	}
	return strings.Join(parts, ".")
}

// commandAt returns the command at path below root, or nil.
func commandAt(root *cobra.Command, path []string) *cobra.Command {
	c := root
	for _, name := range path {
		if c = subcommand(c, name); c == nil {
			return nil
		}
	}
	return c
}

func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

func canonical(key string) string { return strings.ReplaceAll(key, "_", "-") }

// flagOf returns cmd's flag named by key, or nil: root's persistent flags
// at the top level, a command's own and inherited flags in its table.
func flagOf(root, cmd *cobra.Command, key string) *pflag.Flag {
	name := canonical(key)
	var fl *pflag.Flag
	if cmd == root {
		fl = root.PersistentFlags().Lookup(name)
	} else {
		fl = cmd.Flags().Lookup(name)
		if fl == nil {
			fl = cmd.InheritedFlags().Lookup(name)
		}
	}
	if fl == nil || !usable(fl) {
		return nil
	}
	return fl
}

// usable excludes the flags a config file cannot set: help and the config
// file's own flag.
func usable(fl *pflag.Flag) bool {
	return fl.Name != "help" && fl.Name != "config"
}

// Apply sets every flag of cmd (the command being executed, its flags
// parsed) that is not set yet from the file: the table of cmd first, then
// the tables of its parents, then the top level. Values are TOML strings,
// numbers, booleans, dates or arrays (for repeatable flags).
func (f *File) Apply(root, cmd *cobra.Command) error {
	var chain []*cobra.Command
	for c := cmd; c != nil; c = c.Parent() {
		chain = append(chain, c)
		if c == root {
			break
		}
	}
	var errs []error
	for _, c := range chain {
		table := f.tableOf(root, c)
		if c != root {
			if quoted, ok := f.values[strings.ReplaceAll(tablePath(root, c), ".", " ")].(map[string]any); ok {
				table = merged(table, quoted)
			}
		}
		for _, key := range slices.Sorted(maps.Keys(table)) {
			v := table[key]
			if _, isTable := v.(map[string]any); isTable {
				continue
			}
			if flagOf(root, c, key) == nil {
				continue // checked by Check; reserved or not this command's
			}
			fl := cmd.Flags().Lookup(canonical(key))
			if fl == nil || fl.Changed {
				continue
			}
			if err := set(fl, v); err != nil {
				where := key
				if p := tablePath(root, c); p != "" {
					where = p + "." + key
				}
				errs = append(errs, fmt.Errorf("config file %s: %s: %w", f.Path, where, err))
			}
		}
	}
	return errors.Join(errs...)
}

// tableOf returns the table of cmd, nil when the file has none.
func (f *File) tableOf(root, cmd *cobra.Command) map[string]any {
	path := tablePath(root, cmd)
	table := f.values
	if path == "" {
		return table
	}
	for _, part := range strings.Split(path, ".") {
		inner, ok := table[part].(map[string]any)
		if !ok {
			return nil
		}
		table = inner
	}
	return table
}

// merged is a and b in a new map; b's keys win.
func merged(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// set gives fl the TOML value v and marks it set.
func set(fl *pflag.Flag, v any) error {
	if list, ok := v.([]any); ok {
		items := make([]string, len(list))
		for i, item := range list {
			s, err := scalar(item)
			if err != nil {
				return err
			}
			items[i] = s
		}
		sv, ok := fl.Value.(pflag.SliceValue)
		if !ok {
			return fmt.Errorf("want one value, not a list (--%s is not repeatable)", fl.Name)
		}
		if err := sv.Replace(items); err != nil {
			return err
		}
		fl.Changed = true
		return nil
	}
	s, err := scalar(v)
	if err != nil {
		return err
	}
	if err := fl.Value.Set(s); err != nil {
		return err
	}
	fl.Changed = true
	return nil
}

// scalar renders a TOML scalar as a flag value.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("unsupported value %v (%T)", v, v)
}

// ApplyFile reads the config file at path (bounded,
// inputbound.ReadTOMLFile), checks it against the flags of root's command
// tree (Check) and fills every flag of cmd still unset from it (Apply). The
// reserved table's keys are left to readReserved, which reads them from the
// same file; its error is reported together with the flags' problems.
func ApplyFile(root, cmd *cobra.Command, path, reserved string, readReserved func() error) error {
	data, err := inputbound.ReadTOMLFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	f, err := Parse(path, data)
	if err != nil {
		return err
	}
	if err := errors.Join(f.Check(root, reserved), readReserved()); err != nil {
		return err
	}
	return f.Apply(root, cmd)
}
