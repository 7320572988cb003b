package estest

// MappingOf flattens the mappings of a create-index body ({"mappings":
// {"properties": ...}}, or a bare {"properties": ...}) into dotted field
// names and their Elasticsearch types, for NewSearchFake. Multi-fields
// ("fields") become name.sub.
func MappingOf(body map[string]any) map[string]string {
	out := map[string]string{}
	m := obj(body["mappings"])
	if m == nil {
		m = body
	}
	flattenProperties(obj(m["properties"]), "", out)
	return out
}

func flattenProperties(props map[string]any, prefix string, out map[string]string) {
	for name, raw := range props {
		spec := obj(raw)
		full := prefix + name
		if t, ok := spec["type"].(string); ok && t != "object" && t != "nested" {
			out[full] = t
		}
		flattenProperties(obj(spec["properties"]), full+".", out)
		flattenProperties(obj(spec["fields"]), full+".", out)
	}
}
