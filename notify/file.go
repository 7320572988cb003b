package notify

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/esrule/esrule/internal/suggest"
)

// Secrets resolves the secret references of an actions file: environment
// variables and files (cmd/ passes os.LookupEnv and os.ReadFile).
type Secrets struct {
	LookupEnv func(name string) (string, bool)
	ReadFile  func(path string) ([]byte, error)
}

// duration is a TOML string such as "30s" or "5m".
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// fileConfig is the actions file (TOML).
type fileConfig struct {
	Interval     duration     `toml:"interval"`
	MaxAge       duration     `toml:"max_age"`
	BatchSize    int          `toml:"batch_size"`
	ClaimTimeout duration     `toml:"claim_timeout"`
	MinBackoff   duration     `toml:"min_backoff"`
	MaxBackoff   duration     `toml:"max_backoff"`
	Actions      []fileAction `toml:"action"`
}

type fileAction struct {
	Name         string            `toml:"name"`
	Type         string            `toml:"type"`
	Rules        []string          `toml:"rules"`
	URL          string            `toml:"url"`
	URLEnv       string            `toml:"url_env"`
	URLFile      string            `toml:"url_file"`
	Headers      map[string]string `toml:"headers"`
	HeadersEnv   map[string]string `toml:"headers_env"`
	HeadersFile  map[string]string `toml:"headers_file"`
	Timeout      duration          `toml:"timeout"`
	Rate         float64           `toml:"rate"`
	MaxInFlight  int               `toml:"max_in_flight"`
	LinkTemplate string            `toml:"link_template"`
	MaxAttempts  int               `toml:"max_attempts"`
}

// ParseConfig reads an actions file (TOML; see the README) and resolves its
// secrets. It reports every problem at once; errors name variables and
// files, never their values. The returned Config has no Aliases, Owner,
// Clock or Logger yet.
func ParseConfig(data []byte, sec Secrets) (Config, error) {
	if err := checkFileBounds(data); err != nil {
		return Config{}, err
	}
	var f fileConfig
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return Config{}, fmt.Errorf("parse actions file: %w", err)
	}
	var errs []error
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		paths := make([][]string, len(undecoded))
		for i, k := range undecoded {
			paths[i] = k
		}
		keys := suggest.UnknownKeys(paths, f)
		sort.Strings(keys)
		errs = append(errs, fmt.Errorf("unknown keys: %s", strings.Join(keys, ", ")))
	}
	cfg := Config{
		Interval: time.Duration(f.Interval), MaxAge: time.Duration(f.MaxAge), BatchSize: f.BatchSize,
		ClaimTimeout: time.Duration(f.ClaimTimeout), MinBackoff: time.Duration(f.MinBackoff), MaxBackoff: time.Duration(f.MaxBackoff),
	}
	seen := map[string]bool{}
	for _, fa := range f.Actions {
		a, err := fa.resolve(sec)
		if err != nil {
			errs = append(errs, err)
		}
		// A URL that could not be resolved was reported already.
		if err := a.validate(a.URL != ""); err != nil {
			errs = append(errs, err)
		}
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("action %q is defined twice", a.Name))
		}
		seen[a.Name] = true
		cfg.Actions = append(cfg.Actions, a)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("actions file: %w", err)
	}
	return cfg, nil
}

func (fa fileAction) resolve(sec Secrets) (Action, error) {
	a := Action{
		Name: fa.Name, Type: fa.Type, Rules: fa.Rules, Timeout: time.Duration(fa.Timeout), Rate: fa.Rate,
		MaxInFlight: fa.MaxInFlight, LinkTemplate: fa.LinkTemplate, MaxAttempts: fa.MaxAttempts,
	}
	var errs []error
	set := 0
	for _, v := range []string{fa.URL, fa.URLEnv, fa.URLFile} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		errs = append(errs, fmt.Errorf("action %q: set exactly one of url, url_env and url_file", fa.Name))
	} else {
		u, err := sec.value(fa.URL, fa.URLEnv, fa.URLFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("action %q: url: %w", fa.Name, err))
		}
		a.URL = u
	}
	a.Headers = map[string]string{}
	for k, v := range fa.Headers {
		a.Headers[k] = v
	}
	for k, name := range fa.HeadersEnv {
		v, err := sec.value("", name, "")
		if err != nil {
			errs = append(errs, fmt.Errorf("action %q: header %s: %w", fa.Name, k, err))
		}
		a.Headers[k] = v
	}
	for k, path := range fa.HeadersFile {
		v, err := sec.value("", "", path)
		if err != nil {
			errs = append(errs, fmt.Errorf("action %q: header %s: %w", fa.Name, k, err))
		}
		a.Headers[k] = v
	}
	return a, errors.Join(errs...)
}

// value is the literal, the environment variable or the trimmed file.
func (sec Secrets) value(literal, env, file string) (string, error) {
	switch {
	case literal != "":
		return literal, nil
	case env != "":
		if sec.LookupEnv == nil {
			return "", fmt.Errorf("environment variable %s is not available", env)
		}
		v, ok := sec.LookupEnv(env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
		return strings.TrimSpace(v), nil
	case file != "":
		if sec.ReadFile == nil {
			return "", fmt.Errorf("file %s is not available", file)
		}
		b, err := sec.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret file %s: %w", file, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", file)
		}
		return v, nil
	}
	return "", errors.New("empty")
}
