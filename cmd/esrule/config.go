package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/internal/suggest"
)

// configFile is the optional --config file (TOML). It holds the global
// flags and, in [elasticsearch], the connection settings. It has the lowest
// precedence: flags > environment (ESRULE_*, ELASTICSEARCH_*) > config file.
//
//	log_level = "info"
//	rules = ["/etc/esrule/rules"]
//	[elasticsearch]
//	url = ["https://es1:9200", "https://es2:9200"]
//	api_key_file = "/var/run/secrets/esrule/api-key"
//	ca_cert = "ca.crt" # relative to the config file
type configFile struct {
	Rules         []string      `toml:"rules"`
	Rule          []string      `toml:"rule"`
	DryRun        *bool         `toml:"dry_run"`
	LogFormat     string        `toml:"log_format"`
	LogLevel      string        `toml:"log_level"`
	Elasticsearch *esFileConfig `toml:"elasticsearch"`
}

// esFileConfig is the [elasticsearch] table of the config file.
type esFileConfig struct {
	URL                any    `toml:"url"` // "a,b" or ["a", "b"]
	CloudID            string `toml:"cloud_id"`
	APIKey             string `toml:"api_key"`
	APIKeyFile         string `toml:"api_key_file"`
	Username           string `toml:"username"`
	Password           string `toml:"password"`
	PasswordFile       string `toml:"password_file"`
	CACert             string `toml:"ca_cert"`
	CAFingerprint      string `toml:"ca_fingerprint"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`

	dir string // of the config file, for relative paths
}

// urls returns url as a comma-separated list.
func (c *esFileConfig) urls() string {
	switch v := c.URL.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, ",")
	}
	return ""
}

// readConfigFile decodes path strictly: unknown keys are errors.
func readConfigFile(path string) (*configFile, error) {
	var cf configFile
	data, err := readTOMLFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	md, err := toml.Decode(string(data), &cf)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		paths := make([][]string, len(undecoded))
		for i, k := range undecoded {
			paths[i] = k
		}
		return nil, fmt.Errorf("config file %s: unknown keys %s", path, strings.Join(suggest.UnknownKeys(paths, cf), ", "))
	}
	if cf.Elasticsearch == nil {
		cf.Elasticsearch = &esFileConfig{}
	}
	switch cf.Elasticsearch.URL.(type) {
	case nil, string, []any:
	default:
		return nil, fmt.Errorf("config file %s: elasticsearch.url: want a string or a list of strings", path)
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		cf.Elasticsearch.dir = filepath.Dir(abs)
	}
	for _, p := range []*string{&cf.Elasticsearch.APIKeyFile, &cf.Elasticsearch.PasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(cf.Elasticsearch.dir, *p)
		}
	}
	return &cf, nil
}

// loadConfigFile reads the [elasticsearch] table of --config once.
func (o *esOptions) loadConfigFile() error {
	if o.file != nil || o.configPath == "" {
		return nil
	}
	cf, err := readConfigFile(o.configPath)
	if err != nil {
		return err
	}
	o.file = cf.Elasticsearch
	return nil
}

// applyConfig is called once the flags are parsed and ESRULE_* applied: it
// gives the connection settings the command's logger and fills every global
// flag still unset from the --config file. Errors are usage errors.
func (g *globalOptions) applyConfig(cmd *cobra.Command) error {
	g.es.logger = g.logger
	if g.es.configPath == "" {
		return nil
	}
	cf, err := readConfigFile(g.es.configPath)
	if err != nil {
		return asUsage(err)
	}
	g.es.file = cf.Elasticsearch
	set := func(name string, v string) error {
		fl := cmd.Flags().Lookup(name)
		if fl == nil || fl.Changed {
			return nil
		}
		if err := cmd.Flags().Set(name, v); err != nil {
			return usagef("config file %s: %s: %v", g.es.configPath, strings.ReplaceAll(name, "-", "_"), err)
		}
		return nil
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(cf.Rules) > 0 {
		add(set("rules", strings.Join(cf.Rules, ",")))
	}
	if len(cf.Rule) > 0 {
		add(set("rule", strings.Join(cf.Rule, ",")))
	}
	if cf.DryRun != nil {
		add(set("dry-run", strconv.FormatBool(*cf.DryRun)))
	}
	if cf.LogFormat != "" {
		add(set("log-format", cf.LogFormat))
	}
	if cf.LogLevel != "" {
		add(set("log-level", cf.LogLevel))
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
