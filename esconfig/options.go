// Package esconfig resolves the Elasticsearch connection settings of the
// command line into the client's configuration. Each setting comes from, in
// order of precedence: its flag (or ESRULE_<FLAG>, which sets the flag), the
// ELASTICSEARCH_* environment (secrets also from *_FILE), and the
// [elasticsearch] table of the --config file. Secrets have no flag of their
// own (only *-file flags), are never shown as flag defaults and never
// logged. The environment is read through Options.LookupEnv, which the
// command sets.
package esconfig

import (
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/inputbound"
)

// Options are the connection flags, the config file and the environment.
type Options struct {
	URLs               []string
	CloudID            string
	Username           string
	PasswordFile       string
	APIKeyFile         string
	CACert             string
	CAFingerprint      string
	InsecureSkipVerify bool
	AllowHTTP          bool
	// ConfigPath is the --config file; its [elasticsearch] table is read
	// once, when first needed (or given with SetFile).
	ConfigPath string
	// LookupEnv reads the environment (os.LookupEnv); nil reads none.
	LookupEnv func(string) (string, bool)

	file *File
}

// AddFlags registers --config and the connection flags on f.
func (o *Options) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.ConfigPath, "config", "", "optional TOML file: connection settings in [elasticsearch], global flags at the top, any command's flags in a table named after it ([serve] listen = \":9090\")")
	f.StringSliceVar(&o.URLs, "es-url", nil, "Elasticsearch URLs, comma-separated (env ELASTICSEARCH_URL; default http://localhost:9200)")
	f.StringVar(&o.CloudID, "es-cloud-id", "", "Elastic Cloud ID instead of URLs (env ELASTICSEARCH_CLOUD_ID)")
	f.StringVar(&o.Username, "es-username", "", "user for basic authentication (env ELASTICSEARCH_USERNAME)")
	f.StringVar(&o.PasswordFile, "es-password-file", "", "file holding the password (env ELASTICSEARCH_PASSWORD or ELASTICSEARCH_PASSWORD_FILE)")
	f.StringVar(&o.APIKeyFile, "es-api-key-file", "", `file holding the API key, base64 "id:key" (env ELASTICSEARCH_API_KEY or ELASTICSEARCH_API_KEY_FILE)`)
	f.StringVar(&o.CACert, "es-ca-cert", "", "PEM file of the CA that signed Elasticsearch's certificate (env ELASTICSEARCH_CA_CERT)")
	f.StringVar(&o.CAFingerprint, "es-ca-fingerprint", "", "SHA-256 fingerprint (hex) of a certificate in Elasticsearch's chain to trust (env ELASTICSEARCH_CA_FINGERPRINT)")
	f.BoolVar(&o.InsecureSkipVerify, "insecure-skip-verify", false, "do not verify Elasticsearch's TLS certificate (logged as a warning)")
	f.BoolVar(&o.AllowHTTP, "es-allow-http", false, "send credentials over http:// to a host that is not loopback (logged as a warning)")
}

// SetFile sets the [elasticsearch] table of the config file, read by the
// caller.
func (o *Options) SetFile(f *File) { o.file = f }

// Config resolves the settings (Settings) and logs, at every log level,
// the warnings about disabled certificate verification and credentials in
// clear text. Errors never contain a secret.
func (o *Options) Config(log zerolog.Logger) (esclient.Config, error) {
	cfg, err := o.Settings()
	if err != nil {
		return esclient.Config{}, err
	}
	cfg.Logger = log
	warn := log.Level(min(log.GetLevel(), zerolog.WarnLevel))
	if cfg.InsecureSkipVerify {
		warn.Warn().Msg("TLS certificate verification of Elasticsearch is disabled (--insecure-skip-verify): anyone on the network path can read the credentials and the data")
	}
	if plain := esclient.PlaintextCredentials(cfg); len(plain) > 0 {
		warn.Warn().Strs("addresses", plain).Msg("credentials are sent over http:// in clear text; use https://")
	}
	return cfg, nil
}

// Client builds an Elasticsearch client from the settings, for commands
// that need no engine, and logs its connection at debug level.
func (o *Options) Client(log zerolog.Logger) (*esclient.Client, error) {
	cfg, err := o.Config(log)
	if err != nil {
		return nil, err
	}
	c, err := esclient.New(cfg)
	if err != nil {
		return nil, err
	}
	LogConnection(log, c, cfg)
	return c, nil
}

// LogConnection logs the addresses, authentication and TLS mode of c at
// debug level (never a secret).
func LogConnection(log zerolog.Logger, c *esclient.Client, cfg esclient.Config) {
	addresses, auth, tlsMode := c.Describe()
	log.Debug().Strs("addresses", addresses).Bool("cloud_id", cfg.CloudID != "").
		Str("auth", auth).Str("tls", tlsMode).Msg("elasticsearch connection")
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

// Settings resolves every setting by precedence and validates them.
func (o *Options) Settings() (esclient.Config, error) {
	if o.file == nil && o.ConfigPath != "" {
		f, err := ReadFile(o.ConfigPath)
		if err != nil {
			return esclient.Config{}, err
		}
		o.file = f
	}
	fc := o.file
	if fc == nil {
		fc = &File{}
	}
	flag := func(name, v string) value { return value{v, origin{0, name}} }
	file := func(key, v string) value { return value{v, origin{2, "config file " + key}} }
	pick := firstSet
	env := func(name string) (value, error) {
		v, from, err := o.envOrFile(name)
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
	envURL, err := o.envAddresses()
	if err != nil {
		return esclient.Config{}, err
	}
	addrs := pick(flag("--es-url", strings.Join(o.URLs, ",")), envURL, file("url", fc.urls()))
	cloud := pick(flag("--es-cloud-id", o.CloudID), must(env("ELASTICSEARCH_CLOUD_ID")), file("cloud_id", fc.CloudID))
	apiKey := pick(must(flagSecret("--es-api-key-file", o.APIKeyFile)), must(env("ELASTICSEARCH_API_KEY")),
		file("api_key", fc.APIKey), must(fileSecret("api_key_file", fc.APIKeyFile)))
	user := pick(flag("--es-username", o.Username), must(env("ELASTICSEARCH_USERNAME")), file("username", fc.Username))
	pass := pick(must(flagSecret("--es-password-file", o.PasswordFile)), must(env("ELASTICSEARCH_PASSWORD")),
		file("password", fc.Password), must(fileSecret("password_file", fc.PasswordFile)))
	// An empty or blank ELASTICSEARCH_CA_CERT (an optional Secret key) means the system CAs.
	ca := pick(flag("--es-ca-cert", o.CACert), value{strings.TrimSpace(o.getenv("ELASTICSEARCH_CA_CERT")), origin{1, "ELASTICSEARCH_CA_CERT"}}, file("ca_cert", fc.CACert))
	fp := pick(flag("--es-ca-fingerprint", o.CAFingerprint),
		value{o.getenv("ELASTICSEARCH_CA_FINGERPRINT"), origin{1, "ELASTICSEARCH_CA_FINGERPRINT"}}, file("ca_fingerprint", fc.CAFingerprint))
	if len(errs) > 0 {
		return esclient.Config{}, errs[0]
	}

	return esclient.Resolve(esclient.Inputs{
		URL: addrs.in(), CloudID: cloud.in(), APIKey: apiKey.in(), Username: user.in(), Password: pass.in(),
		CA: ca.in(), Fingerprint: fp.in(), CADir: o.fileDir(ca.o),
		InsecureSkipVerify: o.InsecureSkipVerify || fc.InsecureSkipVerify,
		AllowHTTP:          o.AllowHTTP,
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
func (o *Options) fileDir(from origin) string {
	if from.rank == 2 && o.file != nil {
		return o.file.dir
	}
	return ""
}

// getenv is $name, or "" when unset or without LookupEnv.
func (o *Options) getenv(name string) string {
	if o.LookupEnv == nil {
		return ""
	}
	v, _ := o.LookupEnv(name)
	return v
}

// envOrFile returns $NAME, or the trimmed content of the file named by
// $NAME_FILE, and the name of the variable that gave it.
func (o *Options) envOrFile(name string) (v, from string, err error) {
	if v := o.getenv(name); v != "" {
		return v, name, nil
	}
	if p := o.getenv(name + "_FILE"); p != "" {
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
