package esconfig

import (
	"fmt"
	"strings"
)

// envAddresses returns the Elasticsearch URLs of the environment:
// ELASTICSEARCH_URL, or ELASTICSEARCH_HOSTS, the name Kibana's and Beats'
// containers read (a URL, comma-separated URLs, or a YAML/JSON list such as
// ["https://a:9200","https://b:9200"]). Both set with different URLs is an
// error rather than a silent choice.
func (o *Options) envAddresses() (value, error) {
	url := strings.TrimSpace(o.getenv("ELASTICSEARCH_URL"))
	hosts := strings.TrimSpace(o.getenv("ELASTICSEARCH_HOSTS"))
	if hosts == "" {
		return value{url, origin{1, "ELASTICSEARCH_URL"}}, nil
	}
	list := splitHosts(hosts)
	if len(list) == 0 {
		return value{}, fmt.Errorf("ELASTICSEARCH_HOSTS %q holds no URL: set ELASTICSEARCH_URL (comma-separated URLs) instead", hosts)
	}
	if url != "" {
		if strings.Join(splitHosts(url), ",") != strings.Join(list, ",") {
			return value{}, fmt.Errorf("ELASTICSEARCH_URL and ELASTICSEARCH_HOSTS are both set, to different URLs: set only ELASTICSEARCH_URL")
		}
		return value{url, origin{1, "ELASTICSEARCH_URL"}}, nil
	}
	return value{strings.Join(list, ","), origin{1, "ELASTICSEARCH_HOSTS"}}, nil
}

// splitHosts splits comma-separated URLs, with or without the brackets and
// quotes of a YAML or JSON list.
func splitHosts(s string) []string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	var out []string
	for _, h := range strings.Split(s, ",") {
		h = strings.Trim(strings.TrimSpace(h), `"'`)
		h = strings.TrimRight(h, "/")
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}
