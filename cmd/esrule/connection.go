package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/inputbound"
	"github.com/esrule/esrule/logging"
)

// esOptions are the Elasticsearch connection settings. Each setting comes
// from, in order of precedence: its flag (or ESRULE_<FLAG>, which sets the
// flag), the ELASTICSEARCH_* environment (secrets also from *_FILE), and the
// [elasticsearch] table of the --config file. Secrets have no flag of their
// own (only *-file flags), are never shown as flag defaults and never logged.
type esOptions struct {
	urls               []string
	cloudID            string
	username           string
	passwordFile       string
	apiKeyFile         string
	caCert             string
	caFingerprint      string
	insecureSkipVerify bool
	allowHTTP          bool
	configPath         string

	// file is the [elasticsearch] table of --config once loaded.
	file *esFileConfig
	// logger returns the command's logger (set by applyConfig); when nil,
	// log builds one from the global flags.
	logger func() (zerolog.Logger, error)
	// globals are the flags addFlags was given (--log-level, --log-format).
	globals *pflag.FlagSet
}

func (o *esOptions) addFlags(f *pflag.FlagSet) {
	o.globals = f
	f.StringVar(&o.configPath, "config", "", "optional TOML file: connection settings in [elasticsearch], global flags at the top, any command's flags in a table named after it ([serve] listen = \":9090\")")
	f.StringSliceVar(&o.urls, "es-url", nil, "Elasticsearch URLs, comma-separated (env ELASTICSEARCH_URL; default http://localhost:9200)")
	f.StringVar(&o.cloudID, "es-cloud-id", "", "Elastic Cloud ID instead of URLs (env ELASTICSEARCH_CLOUD_ID)")
	f.StringVar(&o.username, "es-username", "", "user for basic authentication (env ELASTICSEARCH_USERNAME)")
	f.StringVar(&o.passwordFile, "es-password-file", "", "file holding the password (env ELASTICSEARCH_PASSWORD or ELASTICSEARCH_PASSWORD_FILE)")
	f.StringVar(&o.apiKeyFile, "es-api-key-file", "", `file holding the API key, base64 "id:key" (env ELASTICSEARCH_API_KEY or ELASTICSEARCH_API_KEY_FILE)`)
	f.StringVar(&o.caCert, "es-ca-cert", "", "PEM file of the CA that signed Elasticsearch's certificate (env ELASTICSEARCH_CA_CERT)")
	f.StringVar(&o.caFingerprint, "es-ca-fingerprint", "", "SHA-256 fingerprint (hex) of a certificate in Elasticsearch's chain to trust (env ELASTICSEARCH_CA_FINGERPRINT)")
	f.BoolVar(&o.insecureSkipVerify, "insecure-skip-verify", false, "do not verify Elasticsearch's TLS certificate (logged as a warning)")
	f.BoolVar(&o.allowHTTP, "es-allow-http", false, "send credentials over http:// to a host that is not loopback (logged as a warning)")
}

// log returns the logger for connection messages: the command's, or one
// built from --log-level and --log-format writing to stderr.
func (o *esOptions) log() zerolog.Logger {
	if o.logger != nil {
		if l, err := o.logger(); err == nil {
			return l
		}
	}
	opts := logging.Options{Format: "json", Level: "info", Color: logging.Color(os.Stderr, os.LookupEnv)}
	if o.globals != nil {
		if fl := o.globals.Lookup("log-level"); fl != nil {
			opts.Level = fl.Value.String()
		}
		if fl := o.globals.Lookup("log-format"); fl != nil {
			opts.Format = fl.Value.String()
		}
	}
	l, err := logging.New(os.Stderr, opts)
	if err != nil {
		l, _ = logging.New(os.Stderr, logging.Options{Format: "json", Level: "info"})
	}
	return l
}

// config resolves the connection settings from flags, environment and
// config file into the client's configuration. Bad settings are usage
// errors (exit 2) that never contain a secret.
func (o *esOptions) config() (esclient.Config, error) {
	cfg, err := o.settings()
	if err != nil {
		return esclient.Config{}, asUsage(err)
	}
	cfg.Logger = o.log()
	// Security warnings are logged at every --log-level.
	warn := cfg.Logger.Level(min(cfg.Logger.GetLevel(), zerolog.WarnLevel))
	if cfg.InsecureSkipVerify {
		warn.Warn().Msg("TLS certificate verification of Elasticsearch is disabled (--insecure-skip-verify): anyone on the network path can read the credentials and the data")
	}
	if plain := esclient.PlaintextCredentials(cfg); len(plain) > 0 {
		warn.Warn().Strs("addresses", plain).Msg("credentials are sent over http:// in clear text; use https://")
	}
	return cfg, nil
}

// client builds an Elasticsearch client for commands that need no engine.
func (o *esOptions) client() (*esclient.Client, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	c, err := esclient.New(cfg)
	if err != nil {
		return nil, asUsage(err)
	}
	addresses, auth, tlsMode := c.Describe()
	cfg.Logger.Debug().Strs("addresses", addresses).Bool("cloud_id", cfg.CloudID != "").
		Str("auth", auth).Str("tls", tlsMode).Msg("elasticsearch connection")
	return c, nil
}

// origin is where a setting came from; lower ranks take precedence.
type origin struct {
	rank int // 0 flag, 1 environment, 2 config file, 3 unset
	name string
}

var unset = origin{rank: 3}

// value is a setting and its origin.
type value struct {
	v string
	o origin
}

// settings resolves every setting by precedence and validates them.
func (o *esOptions) settings() (esclient.Config, error) {
	if err := o.loadConfigFile(); err != nil {
		return esclient.Config{}, err
	}
	fc := o.file
	if fc == nil {
		fc = &esFileConfig{}
	}
	flag := func(name, v string) value { return value{v, origin{0, name}} }
	file := func(key, v string) value { return value{v, origin{2, "config file " + key}} }
	pick := firstSet
	env := func(name string) (value, error) {
		v, from, err := envOrFile(name)
		return value{v, origin{1, from}}, err
	}
	fileSecret := func(key, path string) (value, error) {
		if path == "" {
			return value{}, nil
		}
		v, err := readSecretFile(path)
		if err != nil {
			return value{}, fmt.Errorf("config file %s: %w", key, err)
		}
		return value{v, origin{2, "config file " + key}}, nil
	}
	flagSecret := func(name, path string) (value, error) {
		if path == "" {
			return value{}, nil
		}
		v, err := readSecretFile(path)
		if err != nil {
			return value{}, fmt.Errorf("%s: %w", name, err)
		}
		return value{v, origin{0, name}}, nil
	}

	var errs []error
	must := func(v value, err error) value {
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	envURL, err := envAddresses()
	if err != nil {
		return esclient.Config{}, err
	}
	addrs := pick(flag("--es-url", strings.Join(o.urls, ",")), envURL, file("url", fc.urls()))
	cloud := pick(flag("--es-cloud-id", o.cloudID), must(env("ELASTICSEARCH_CLOUD_ID")), file("cloud_id", fc.CloudID))
	apiKey := pick(must(flagSecret("--es-api-key-file", o.apiKeyFile)), must(env("ELASTICSEARCH_API_KEY")),
		file("api_key", fc.APIKey), must(fileSecret("api_key_file", fc.APIKeyFile)))
	user := pick(flag("--es-username", o.username), must(env("ELASTICSEARCH_USERNAME")), file("username", fc.Username))
	pass := pick(must(flagSecret("--es-password-file", o.passwordFile)), must(env("ELASTICSEARCH_PASSWORD")),
		file("password", fc.Password), must(fileSecret("password_file", fc.PasswordFile)))
	// An empty or blank ELASTICSEARCH_CA_CERT (an optional Secret key) means the system CAs.
	ca := pick(flag("--es-ca-cert", o.caCert), value{strings.TrimSpace(os.Getenv("ELASTICSEARCH_CA_CERT")), origin{1, "ELASTICSEARCH_CA_CERT"}}, file("ca_cert", fc.CACert))
	fp := pick(flag("--es-ca-fingerprint", o.caFingerprint),
		value{os.Getenv("ELASTICSEARCH_CA_FINGERPRINT"), origin{1, "ELASTICSEARCH_CA_FINGERPRINT"}}, file("ca_fingerprint", fc.CAFingerprint))
	if len(errs) > 0 {
		return esclient.Config{}, errs[0]
	}

	return esclient.Resolve(esclient.Inputs{
		URL: addrs.in(), CloudID: cloud.in(), APIKey: apiKey.in(), Username: user.in(), Password: pass.in(),
		CA: ca.in(), Fingerprint: fp.in(), CADir: o.fileDir(ca.o),
		InsecureSkipVerify: o.insecureSkipVerify || fc.InsecureSkipVerify,
		AllowHTTP:          o.allowHTTP,
	})
}

// in is v as an input of esclient.Resolve.
func (v value) in() esclient.Value { return esclient.Value{V: v.v, From: v.o.name, Rank: v.o.rank} }

// firstSet returns the first value that is set (the strongest source).
func firstSet(vs ...value) value {
	for _, v := range vs {
		if v.v != "" {
			return v
		}
	}
	return value{o: unset}
}

// fileDir is the directory relative paths of the config file are relative to.
func (o *esOptions) fileDir(from origin) string {
	if from.rank == 2 && o.file != nil {
		return o.file.dir
	}
	return ""
}

// envOrFile returns $NAME, or the trimmed content of the file named by
// $NAME_FILE, and the name of the variable that gave it.
func envOrFile(name string) (v, from string, err error) {
	if v := os.Getenv(name); v != "" {
		return v, name, nil
	}
	if p := os.Getenv(name + "_FILE"); p != "" {
		v, err := readSecretFile(p)
		if err != nil {
			return "", "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return v, name + "_FILE", nil
	}
	return "", "", nil
}

// readSecretFile reads a small secret file (a Kubernetes secret mount) and
// trims surrounding white space. Errors name the path, never the content.
func readSecretFile(path string) (string, error) {
	b, err := inputbound.ReadFile(path, 64<<10) // not /dev/zero, not a huge file
	if err != nil {
		return "", fmt.Errorf("read secret file (at most 64 KiB): %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return v, nil
}
