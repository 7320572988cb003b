package notify

import (
	"net/url"
	"strings"
	"time"
)

// kibanaAlertsIndexPrefixes are the names of Kibana's Security alerts
// indices and alias (--alerts-target kibana).
var kibanaAlertsIndexPrefixes = []string{".internal.alerts-security.alerts-", ".alerts-security.alerts-"}

// SavedSearchID is the Discover saved search that esrule setup --kibana-url
// imports (kibana.SavedSearchID); KibanaURL opens it for esrule's own index.
const SavedSearchID = "esrule-alerts-search"

// KibanaURL is the link to this alert in the Kibana at base, wherever the
// alert was written (for link_template: {{.KibanaURL "https://kibana.example.com"}}):
//
//   - in Kibana's Security alerts index: the Security app's alert redirect,
//     /app/security/alerts/redirect/<id>?index=.alerts-security.alerts-<space>&timestamp=<@timestamp>,
//     the link Kibana itself writes in kibana.alert.url, which opens the
//     alert's details in the Alerts page;
//   - in esrule's index: Discover with the saved search "esrule alerts"
//     (imported by esrule setup --kibana-url), filtered to this alert's
//     kibana.alert.uuid, over the hour around its @timestamp.
//
// Both are in the alert's Kibana space (/s/<space> unless default).
func (s Summary) KibanaURL(base string) string {
	base = strings.TrimRight(base, "/")
	space := s.Space
	if space == "" {
		space = "default"
	}
	prefix := base
	if space != "default" {
		prefix += "/s/" + url.PathEscape(space)
	}
	for _, p := range kibanaAlertsIndexPrefixes {
		if strings.HasPrefix(s.Index, p) {
			q := url.Values{}
			q.Set("index", ".alerts-security.alerts-"+space)
			q.Set("timestamp", s.CreatedAt.UTC().Format(time.RFC3339Nano))
			return prefix + "/app/security/alerts/redirect/" + url.PathEscape(s.AlertID) + "?" + q.Encode()
		}
	}
	from := s.CreatedAt.UTC().Add(-30 * time.Minute).Format(time.RFC3339Nano)
	to := s.CreatedAt.UTC().Add(30 * time.Minute).Format(time.RFC3339Nano)
	return prefix + "/app/discover#/view/" + SavedSearchID +
		"?_g=(time:(from:" + risonString(from) + ",to:" + risonString(to) + "))" +
		"&_a=(query:(language:kuery,query:" + risonString("kibana.alert.uuid:"+s.AlertID) + "))"
}

// risonString quotes s as a Rison string (' and ! escaped with !) and
// percent-encodes what a URL fragment must not hold.
func risonString(s string) string {
	s = strings.NewReplacer("!", "!!", "'", "!'").Replace(s)
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == ' ' || r == '"' || r == '#' || r == '%' || r == '&' || r == '<' || r == '>' || r == '`' || r == '{' || r == '}' || r == '|' || r == '\\' || r == '^' || r > 0x7e || r < 0x20:
			b.WriteString(url.PathEscape(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
