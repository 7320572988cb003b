package esclient

import "net/url"

// PathIndices returns indices escaped for a request path: a rule's index
// patterns come from rule files, and a pattern holding / ? or # would
// otherwise change the request (secret/_cache/clear# sends POST
// /secret/_cache/clear). Elasticsearch decodes the path before it splits
// the list at commas and resolves wildcards and date math (whose < { / } >
// must be escaped anyway).
func PathIndices(indices []string) []string {
	out := make([]string, len(indices))
	for i, ix := range indices {
		out[i] = url.PathEscape(ix)
	}
	return out
}
