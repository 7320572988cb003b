package esconfig

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/esrule/esrule/internal/inputbound"
	"github.com/esrule/esrule/internal/suggest"
)

// File is the [elasticsearch] table of the config file (TOML). Every other
// key of the file is a flag (package cliconfig).
//
//	[elasticsearch]
//	url = ["https://es1:9200", "https://es2:9200"]
//	api_key_file = "/var/run/secrets/esrule/api-key"
//	ca_cert = "ca.crt" # relative to the config file
type File struct {
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
func (c *File) urls() string {
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

// ReadFile reads the [elasticsearch] table of the config file at path
// (bounded, inputbound.ReadTOMLFile) strictly: unknown keys of the table are
// errors, with a suggestion. Relative secret file paths are made relative
// to the file's directory. A file without the table gives an empty one.
func ReadFile(path string) (*File, error) {
	var cf struct {
		Elasticsearch *File `toml:"elasticsearch"`
	}
	data, err := inputbound.ReadTOMLFile(path)
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
	f := cf.Elasticsearch
	if f == nil {
		f = &File{}
	}
	switch f.URL.(type) {
	case nil, string, []any:
	default:
		return nil, fmt.Errorf("config file %s: elasticsearch.url: want a string or a list of strings", path)
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		f.dir = filepath.Dir(abs)
	}
	for _, p := range []*string{&f.APIKeyFile, &f.PasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(f.dir, *p)
		}
	}
	return f, nil
}
