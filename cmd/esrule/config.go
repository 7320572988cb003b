package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/cliconfig"
	"github.com/esrule/esrule/internal/suggest"
)

// configFile is what cmd reads itself from the optional --config file
// (TOML): the connection settings in [elasticsearch]. Every other key is a
// flag (package cliconfig): top-level keys are the global flags, a table
// named after a command holds its flags. It has the lowest precedence:
// flags > environment (ESRULE_*, ELASTICSEARCH_*) > config file.
//
//	log_level = "info"
//	rules = ["/etc/esrule/rules"]
//	[serve]
//	listen = ":9090"
//	[elasticsearch]
//	url = ["https://es1:9200", "https://es2:9200"]
//	api_key_file = "/var/run/secrets/esrule/api-key"
//	ca_cert = "ca.crt" # relative to the config file
type configFile struct {
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

// readConfigFile decodes the [elasticsearch] table of path strictly:
// unknown keys are errors, with a suggestion. The other keys are flags
// (cliconfig checks them).
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
	var paths [][]string
	for _, k := range md.Undecoded() {
		if len(k) >= 2 && k[0] == "elasticsearch" {
			paths = append(paths, k)
		}
	}
	if len(paths) > 0 {
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
// gives the connection settings the command's logger and fills every flag
// of the command still unset from the --config file (cliconfig). Errors
// are usage errors.
func (g *globalOptions) applyConfig(cmd *cobra.Command) error {
	g.es.logger = g.logger
	if g.es.configPath == "" {
		return nil
	}
	data, err := readTOMLFile(g.es.configPath)
	if err != nil {
		return usagef("read config file: %w", err)
	}
	flags, err := cliconfig.Parse(g.es.configPath, data)
	if err != nil {
		return asUsage(err)
	}
	checkErr := flags.Check(cmd.Root(), "elasticsearch")
	cf, esErr := readConfigFile(g.es.configPath)
	if err := errors.Join(checkErr, esErr); err != nil {
		return asUsage(err)
	}
	g.es.file = cf.Elasticsearch
	if err := flags.Apply(cmd.Root(), cmd); err != nil {
		return asUsage(err)
	}
	return nil
}
