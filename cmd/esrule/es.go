package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
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
	f.StringVar(&o.configPath, "config", "", "optional TOML file with the connection settings ([elasticsearch]) and global flags")
	f.StringSliceVar(&o.urls, "es-url", nil, "Elasticsearch URLs, comma-separated (env ELASTICSEARCH_URL; default http://localhost:9200)")
	f.StringVar(&o.cloudID, "es-cloud-id", "", "Elastic Cloud ID instead of URLs (env ELASTICSEARCH_CLOUD_ID)")
	f.StringVar(&o.username, "es-username", "", "user for basic authentication (env ELASTICSEARCH_USERNAME)")
	f.StringVar(&o.passwordFile, "es-password-file", "", "file holding the password (env ELASTICSEARCH_PASSWORD or ELASTICSEARCH_PASSWORD_FILE)")
	f.StringVar(&o.apiKeyFile, "es-api-key-file", "", `file holding the API key, base64 "id:key" (env ELASTICSEARCH_API_KEY or ELASTICSEARCH_API_KEY_FILE)`)
	f.StringVar(&o.caCert, "es-ca-cert", "", "PEM file of the CA that signed Elasticsearch's certificate (env ELASTICSEARCH_CA_CERT)")
	f.StringVar(&o.caFingerprint, "es-ca-fingerprint", "", "SHA-256 fingerprint (hex) of a certificate in Elasticsearch's chain to trust (env ELASTICSEARCH_CA_FINGERPRINT)")
	f.BoolVar(&o.insecureSkipVerify, "insecure-skip-verify", false, "do not verify Elasticsearch's TLS certificate (logged as a warning)")
}

// log returns the logger for connection messages: the command's, or one
// built from --log-level and --log-format writing to stderr.
func (o *esOptions) log() zerolog.Logger {
	if o.logger != nil {
		if l, err := o.logger(); err == nil {
			return l
		}
	}
	level := zerolog.InfoLevel
	var w io.Writer = os.Stderr
	if o.globals != nil {
		if fl := o.globals.Lookup("log-level"); fl != nil {
			if l, err := zerolog.ParseLevel(fl.Value.String()); err == nil && fl.Value.String() != "" {
				level = l
			}
		}
		if fl := o.globals.Lookup("log-format"); fl != nil && fl.Value.String() == "console" {
			w = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05"}
		}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// client builds an Elasticsearch client from flags, environment and config
// file. Bad settings are usage errors (exit 2). The client does not retry
// TLS verification failures, and a 401 becomes an *authError naming the
// authentication method, after which requests fail fast for a while.
func (o *esOptions) client() (*elasticsearch.Client, error) {
	s, err := o.settings()
	if err != nil {
		return nil, asUsage(err)
	}
	log := o.log()
	tr, tlsMode := s.transport()
	cfg := elasticsearch.Config{
		Addresses:     s.addresses,
		CloudID:       s.cloudID,
		APIKey:        s.apiKey,
		Username:      s.username,
		Password:      s.password,
		Transport:     tr,
		RetryOnStatus: []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		RetryOnError:  retryOnError,
		RetryBackoff:  func(attempt int) time.Duration { return time.Duration(attempt) * 100 * time.Millisecond },
		MaxRetries:    3,
	}
	c, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, usagef("configure Elasticsearch client: %s", s.scrub(err.Error()))
	}
	c.Transport = &guardedTransport{next: c.Transport, s: s, log: log, now: time.Now}
	if s.insecure {
		log.Warn().Msg("TLS certificate verification of Elasticsearch is disabled (--insecure-skip-verify): anyone on the network path can read the credentials and the data")
	}
	log.Debug().Strs("addresses", s.redactedAddresses()).Bool("cloud_id", s.cloudID != "").
		Str("auth", s.authDescription()).Str("tls", tlsMode).Msg("elasticsearch connection")
	return c, nil
}

// connSettings are the resolved connection settings.
type connSettings struct {
	addresses []string
	cloudID   string

	apiKey, apiKeySource     string
	username, password       string
	usernameSrc, passwordSrc string

	caPEM, fingerprint []byte
	caSource           string
	insecure           bool
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
func (o *esOptions) settings() (*connSettings, error) {
	if err := o.loadConfigFile(); err != nil {
		return nil, err
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
	envURL := value{os.Getenv("ELASTICSEARCH_URL"), origin{1, "ELASTICSEARCH_URL"}}
	addrs := pick(flag("--es-url", strings.Join(o.urls, ",")), envURL, file("url", fc.urls()))
	cloud := pick(flag("--es-cloud-id", o.cloudID), must(env("ELASTICSEARCH_CLOUD_ID")), file("cloud_id", fc.CloudID))
	apiKey := pick(must(flagSecret("--es-api-key-file", o.apiKeyFile)), must(env("ELASTICSEARCH_API_KEY")),
		file("api_key", fc.APIKey), must(fileSecret("api_key_file", fc.APIKeyFile)))
	user := pick(flag("--es-username", o.username), must(env("ELASTICSEARCH_USERNAME")), file("username", fc.Username))
	pass := pick(must(flagSecret("--es-password-file", o.passwordFile)), must(env("ELASTICSEARCH_PASSWORD")),
		file("password", fc.Password), must(fileSecret("password_file", fc.PasswordFile)))
	ca := pick(flag("--es-ca-cert", o.caCert), value{os.Getenv("ELASTICSEARCH_CA_CERT"), origin{1, "ELASTICSEARCH_CA_CERT"}}, file("ca_cert", fc.CACert))
	fp := pick(flag("--es-ca-fingerprint", o.caFingerprint),
		value{os.Getenv("ELASTICSEARCH_CA_FINGERPRINT"), origin{1, "ELASTICSEARCH_CA_FINGERPRINT"}}, file("ca_fingerprint", fc.CAFingerprint))
	if len(errs) > 0 {
		return nil, errs[0]
	}

	s := &connSettings{insecure: o.insecureSkipVerify || fc.InsecureSkipVerify}
	// Endpoint: URLs or a Cloud ID; the one from the stronger source wins.
	switch {
	case cloud.v != "" && addrs.v != "" && cloud.o.rank == addrs.o.rank:
		return nil, fmt.Errorf("both %s and %s are set: use one", addrs.o.name, cloud.o.name)
	case cloud.v != "" && (addrs.v == "" || cloud.o.rank < addrs.o.rank):
		s.cloudID = cloud.v
	default:
		list, err := parseAddresses(addrs.v, addrs.o.name)
		if err != nil {
			return nil, err
		}
		s.addresses = list
	}
	// Authentication: an API key or username and password; the stronger source wins.
	basicRank := min(user.o.rank, pass.o.rank)
	switch {
	case apiKey.v != "" && (user.v != "" || pass.v != "") && apiKey.o.rank == basicRank:
		return nil, fmt.Errorf("both an API key (%s) and basic authentication (%s) are set: use one", apiKey.o.name, firstSet(user, pass).o.name)
	case apiKey.v != "" && apiKey.o.rank < basicRank:
		s.apiKey, s.apiKeySource = normalizeAPIKey(apiKey.v), apiKey.o.name
	case user.v != "" || pass.v != "":
		if user.v == "" {
			return nil, fmt.Errorf("a password is set (%s) but no username: set ELASTICSEARCH_USERNAME or --es-username", pass.o.name)
		}
		if pass.v == "" {
			return nil, fmt.Errorf("username %q is set (%s) but no password: set ELASTICSEARCH_PASSWORD or ELASTICSEARCH_PASSWORD_FILE", user.v, user.o.name)
		}
		s.username, s.usernameSrc, s.password, s.passwordSrc = user.v, user.o.name, pass.v, pass.o.name
	}
	if ca.v != "" {
		pem, err := readCA(ca.v, o.fileDir(ca.o))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ca.o.name, err)
		}
		s.caPEM, s.caSource = pem, ca.o.name
	}
	if fp.v != "" {
		b, err := parseFingerprint(fp.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fp.o.name, err)
		}
		s.fingerprint = b
	}
	return s, nil
}

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
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	if fi.Size() > 64<<10 {
		return "", fmt.Errorf("read secret file %s: %d bytes, more than a secret (64 KiB)", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return v, nil
}

// parseAddresses splits comma-separated URLs and checks each one.
func parseAddresses(list, from string) ([]string, error) {
	if list == "" {
		return []string{"http://localhost:9200"}, nil
	}
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		u, err := url.Parse(a)
		if err != nil {
			return nil, fmt.Errorf("%s: a URL does not parse (want https://host:9200)", from)
		}
		if u.User != nil {
			u.User = nil
			return nil, fmt.Errorf("%s: %s carries credentials: set ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD (or ELASTICSEARCH_API_KEY) instead", from, u.Redacted())
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: %q: want http:// or https:// and a host, such as https://es.example.com:9200", from, u.Redacted())
		}
		out = append(out, strings.TrimRight(u.String(), "/"))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no URL", from)
	}
	return out, nil
}

// normalizeAPIKey returns the base64 "id:key" form Elasticsearch expects;
// a raw "id:key" is encoded.
func normalizeAPIKey(k string) string {
	if strings.Contains(k, ":") {
		return base64.StdEncoding.EncodeToString([]byte(k))
	}
	return k
}

// readCA reads a PEM file (or PEM text) and checks that it holds a certificate.
func readCA(v, dir string) ([]byte, error) {
	pem := []byte(v)
	if !strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		path := v
		if dir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read CA certificate: %w", err)
		}
		pem = b
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA certificate: no PEM certificate in it")
	}
	return pem, nil
}

// parseFingerprint accepts hex with or without colons (as openssl prints it).
func parseFingerprint(v string) ([]byte, error) {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(v))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("want a SHA-256 fingerprint: 64 hex digits, colons allowed")
	}
	return b, nil
}

// transport returns the HTTP transport with the TLS settings, and a word
// describing the TLS mode for the log.
func (s *connSettings) transport() (*http.Transport, string) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	mode := "system CAs"
	if len(s.caPEM) > 0 {
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM(s.caPEM)
		mode = "CA from " + s.caSource
	}
	switch {
	case s.insecure:
		cfg.InsecureSkipVerify = true
		mode = "unverified (--insecure-skip-verify)"
	case len(s.fingerprint) > 0:
		// Pinning replaces chain verification, like Elastic's ca_trusted_fingerprint:
		// the connection is trusted when a certificate of the chain has the fingerprint.
		want := s.fingerprint
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			for _, cert := range cs.PeerCertificates {
				sum := sha256.Sum256(cert.Raw)
				if string(sum[:]) == string(want) {
					return nil
				}
			}
			return errFingerprintMismatch
		}
		mode = "pinned fingerprint"
	}
	tr.TLSClientConfig = cfg
	return tr, mode
}

// authDescription names the authentication method and where it came from,
// never the secret.
func (s *connSettings) authDescription() string {
	switch {
	case s.apiKey != "":
		return "API key from " + s.apiKeySource
	case s.username != "":
		return fmt.Sprintf("user %q with the password from %s", s.username, s.passwordSrc)
	default:
		return "no credentials"
	}
}

func (s *connSettings) redactedAddresses() []string {
	if s.cloudID != "" {
		return nil
	}
	return s.addresses
}

// secrets are the values that must never be printed.
func (s *connSettings) secrets() []string {
	var out []string
	if s.apiKey != "" {
		out = append(out, s.apiKey)
		if raw, err := base64.StdEncoding.DecodeString(s.apiKey); err == nil {
			if _, key, ok := strings.Cut(string(raw), ":"); ok && key != "" {
				out = append(out, key, string(raw))
			}
		}
	}
	if s.password != "" {
		out = append(out, s.password)
	}
	return out
}

// scrub replaces every secret in text.
func (s *connSettings) scrub(text string) string {
	for _, secret := range s.secrets() {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}
