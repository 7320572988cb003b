package esclient

import "fmt"

// Value is the value of a connection setting from one source: From names
// the source in messages (a flag, a variable, a config file key) and Rank
// orders the sources: 0 flag, 1 environment, 2 config file, 3 unset (lower
// wins).
type Value struct {
	V    string
	From string
	Rank int
}

// Inputs are the connection settings as the command found them, each the
// value of its strongest source.
type Inputs struct {
	URL, CloudID, APIKey, Username, Password, CA, Fingerprint Value
	// CADir is the directory a relative CA path is relative to (the config
	// file's).
	CADir              string
	InsecureSkipVerify bool
	// AllowHTTP accepts credentials over http:// to a host that is not
	// loopback (--es-allow-http).
	AllowHTTP bool
}

func first(vs ...Value) Value {
	for _, v := range vs {
		if v.V != "" {
			return v
		}
	}
	return Value{Rank: 3}
}

// Resolve turns the settings into a Config: URLs or a Cloud ID, and an API
// key or basic authentication, the stronger source winning (the same source
// giving both is an error); the CA file is read and the fingerprint parsed.
// Errors name the source of the setting, never a secret.
func Resolve(in Inputs) (Config, error) {
	s := Config{InsecureSkipVerify: in.InsecureSkipVerify}
	// Endpoint: URLs or a Cloud ID; the one from the stronger source wins.
	switch {
	case in.CloudID.V != "" && in.URL.V != "" && in.CloudID.Rank == in.URL.Rank:
		return s, fmt.Errorf("both %s and %s are set: use one", in.URL.From, in.CloudID.From)
	case in.CloudID.V != "" && (in.URL.V == "" || in.CloudID.Rank < in.URL.Rank):
		if _, err := CloudAddress(in.CloudID.V); err != nil {
			return s, fmt.Errorf("%s: %w", in.CloudID.From, err)
		}
		s.CloudID, s.AddressSource = in.CloudID.V, "the Cloud ID in "+in.CloudID.From
	default:
		list, err := ParseAddresses(in.URL.V, in.URL.From)
		if err != nil {
			return s, err
		}
		s.Addresses = list
		if in.URL.V != "" {
			s.AddressSource = in.URL.From
		}
	}
	// Authentication: an API key or username and password; the stronger source wins.
	basicRank := min(in.Username.Rank, in.Password.Rank)
	switch {
	case in.APIKey.V != "" && (in.Username.V != "" || in.Password.V != "") && in.APIKey.Rank == basicRank:
		return s, fmt.Errorf("both an API key (%s) and basic authentication (%s) are set: use one", in.APIKey.From, first(in.Username, in.Password).From)
	case in.APIKey.V != "" && in.APIKey.Rank < basicRank:
		s.APIKey, s.APIKeySource = NormalizeAPIKey(in.APIKey.V), in.APIKey.From
	case in.Username.V != "" || in.Password.V != "":
		if in.Username.V == "" {
			return s, fmt.Errorf("a password is set (%s) but no username: set ELASTICSEARCH_USERNAME or --es-username", in.Password.From)
		}
		if in.Password.V == "" {
			return s, fmt.Errorf("username %q is set (%s) but no password: set ELASTICSEARCH_PASSWORD or ELASTICSEARCH_PASSWORD_FILE", in.Username.V, in.Username.From)
		}
		s.Username, s.Password, s.PasswordSource = in.Username.V, in.Password.V, in.Password.From
	}
	if s.APIKey != "" || s.Username != "" {
		source := s.APIKeySource
		if s.APIKey == "" {
			source = s.PasswordSource
		}
		if err := checkPlaintext(s.Addresses, source, in.URL.From, in.AllowHTTP); err != nil {
			return s, err
		}
	}
	if in.CA.V != "" {
		pem, err := ReadCA(in.CA.V, in.CADir)
		if err != nil {
			return s, fmt.Errorf("%s: %w", in.CA.From, err)
		}
		s.CAPEM, s.CASource = pem, in.CA.From
	}
	if in.Fingerprint.V != "" {
		b, err := ParseFingerprint(in.Fingerprint.V)
		if err != nil {
			return s, fmt.Errorf("%s: %w", in.Fingerprint.From, err)
		}
		s.Fingerprint = b
		if len(s.CAPEM) > 0 { // the fingerprint picks the CA of the file to trust
			if s.CAPEM, err = pinnedCAs(s.CAPEM, b); err != nil {
				return s, fmt.Errorf("%s and %s: %w (the fingerprint pins the CA whose PEM the file holds)", in.Fingerprint.From, in.CA.From, err)
			}
		}
	}
	return s, nil
}
