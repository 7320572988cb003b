package notify

import (
	"encoding/json"
	"net/url"
	"strings"
)

// minSecretLen is the shortest configured value redacted: shorter ones
// would blank out ordinary words of the receiver's answer.
const minSecretLen = 4

// secretsOf returns the values of a that must never be stored or logged:
// its header values (tokens, signatures) and its URL (Slack webhook URLs
// are secrets), with the path and query of the URL on their own.
func secretsOf(a Action) []string {
	var out []string
	add := func(s string) {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	for _, v := range a.Headers {
		add(v)
	}
	add(a.URL)
	if u, err := url.Parse(a.URL); err == nil {
		add(u.RawQuery)
		if u.Path != "/" {
			add(u.EscapedPath())
			add(u.Path)
		}
	}
	return out
}

// redact replaces every secret in text, also in the forms a receiver that
// echoes the request would use: JSON-escaped and URL-escaped.
func redact(text string, secrets []string) string {
	for _, s := range secrets {
		for _, form := range encodings(s) {
			text = strings.ReplaceAll(text, form, "[REDACTED]")
		}
	}
	return text
}

// encodings are s as it is, JSON-escaped (with and without HTML escaping)
// and URL-escaped, longest first.
func encodings(s string) []string {
	forms := []string{s}
	add := func(f string) {
		for _, x := range forms {
			if x == f {
				return
			}
		}
		forms = append(forms, f)
	}
	if b, err := json.Marshal(s); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		e := strings.TrimSpace(sb.String())
		add(e[1 : len(e)-1])
	}
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	return forms
}

// maxEncodedLen is the longest form of any secret: the receiver's answer is
// read that much beyond what is kept, so that a secret cut at the end of the
// kept part is still found whole.
func maxEncodedLen(secrets []string) int {
	n := 0
	for _, s := range secrets {
		for _, f := range encodings(s) {
			n = max(n, len(f))
		}
	}
	return n
}
