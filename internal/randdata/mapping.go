package randdata

// FieldType is the mapped Elasticsearch type of a new-terms field.
type FieldType string

// Mapped types used by the synthetic dataset.
const (
	Keyword FieldType = "keyword"
	Long    FieldType = "long"
	Boolean FieldType = "boolean"
	IP      FieldType = "ip"
)

// TermFields are the fields a synthetic rule may use as new-terms fields, with their types.
var TermFields = []struct {
	Name string
	Type FieldType
}{
	{FieldUserName, Keyword},
	{FieldHostName, Keyword},
	{FieldUserID, Long},
	{FieldSourceIP, IP},
	{FieldSuccess, Boolean},
}

// TypeOf returns the mapped type of a synthetic field ("" if unknown).
func TypeOf(field string) FieldType {
	for _, f := range TermFields {
		if f.Name == field {
			return f.Type
		}
	}
	return ""
}

// IndexBody returns the create-index body (settings and explicit mapping) for
// a concrete index of the synthetic dataset. Unknown fields are not indexed.
func IndexBody(shards int) map[string]any {
	return map[string]any{
		"settings": map[string]any{
			"number_of_shards":   shards,
			"number_of_replicas": 0,
		},
		"mappings": map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"@timestamp": map[string]any{"type": "date"},
				"event": map[string]any{"properties": map[string]any{
					"ingested": map[string]any{"type": "date"},
					"action":   map[string]any{"type": "keyword"},
					"success":  map[string]any{"type": "boolean"},
				}},
				"user": map[string]any{"properties": map[string]any{
					"name": map[string]any{"type": "keyword"},
					"id":   map[string]any{"type": "long"},
				}},
				"host": map[string]any{"properties": map[string]any{
					"name": map[string]any{"type": "keyword"},
				}},
				"source": map[string]any{"properties": map[string]any{
					"ip": map[string]any{"type": "ip"},
				}},
				"message": map[string]any{"type": "text"},
			},
		},
	}
}
