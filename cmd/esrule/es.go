package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/spf13/pflag"
)

// esOptions are the Elasticsearch connection settings. Values come from flags,
// then the ELASTICSEARCH_* environment (and *_FILE variants for secrets).
// Secrets are never shown as flag defaults and never logged.
type esOptions struct {
	urls               []string
	caCert             string
	insecureSkipVerify bool
}

func (o *esOptions) addFlags(f *pflag.FlagSet) {
	f.StringSliceVar(&o.urls, "es-url", nil, "Elasticsearch URLs (env ELASTICSEARCH_URL, comma-separated; default http://localhost:9200)")
	f.StringVar(&o.caCert, "es-ca-cert", "", "PEM file of the CA that signed Elasticsearch's certificate (env ELASTICSEARCH_CA_CERT)")
	f.BoolVar(&o.insecureSkipVerify, "insecure-skip-verify", false, "do not verify Elasticsearch's TLS certificate (logged as a warning)")
}

// envOrFile returns $NAME, or the trimmed content of the file named by $NAME_FILE.
func envOrFile(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	if p := os.Getenv(name + "_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("read %s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// client builds an Elasticsearch client from flags and environment.
func (o *esOptions) client() (*elasticsearch.Client, error) {
	cfg := elasticsearch.Config{Addresses: o.urls}
	if len(cfg.Addresses) == 0 {
		if v := os.Getenv("ELASTICSEARCH_URL"); v != "" {
			cfg.Addresses = strings.Split(v, ",")
		} else {
			cfg.Addresses = []string{"http://localhost:9200"}
		}
	}
	var err error
	if cfg.APIKey, err = envOrFile("ELASTICSEARCH_API_KEY"); err != nil {
		return nil, usageError{err}
	}
	if cfg.Username, err = envOrFile("ELASTICSEARCH_USERNAME"); err != nil {
		return nil, usageError{err}
	}
	if cfg.Password, err = envOrFile("ELASTICSEARCH_PASSWORD"); err != nil {
		return nil, usageError{err}
	}
	if cfg.CloudID, err = envOrFile("ELASTICSEARCH_CLOUD_ID"); err != nil {
		return nil, usageError{err}
	}
	if cfg.CloudID != "" {
		cfg.Addresses = nil
	}
	ca := o.caCert
	if ca == "" {
		ca = os.Getenv("ELASTICSEARCH_CA_CERT")
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, usagef("read CA certificate: %w", err)
		}
		cfg.CACert = pem
	}
	c, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, usagef("configure Elasticsearch client: %w", err)
	}
	return c, nil
}
