package rule

// indexOrDataView checks the rule's source: index patterns, which a rule
// with a data_view_id must list too, since esrule cannot read Kibana's data
// views. With both, esrule searches index.
func (v *validator) indexOrDataView(r *Rule) {
	if r.DataViewID != "" && len(r.Index) == 0 {
		v.add("data_view_id", "data view %q cannot be resolved without Kibana; "+
			"also list its index patterns in index (esrule then searches those)", r.DataViewID)
		return
	}
	v.index(r.Index)
}
