package alerts

import "strings"

// reasonMessage is Kibana's buildReasonMessageUtil (reason_formatters.ts), the
// kibana.alert.reason text shared by all security rule types, e.g.
// "authentication event with source 8.42.77.171 by root on zeek-newyork created high alert My rule."
//
// Fields come from the merged _source, or from fields when _source is empty.
// A value counts only if it is a non-empty string other than "-" or a
// non-empty array other than ["-"] (arrays are joined with ", "); numbers
// such as a numeric source.port in _source are therefore not shown, exactly
// as in Kibana. "with" appears only when a process, file, address or port
// value is present.
func reasonMessage(name, severity string, source map[string]any, fields map[string]any) string {
	var doc any = source
	if len(source) == 0 {
		doc = fields
	}
	hasFieldOfInterest := false
	value := func(path string, ofInterest bool) (string, bool) {
		s, ok := reasonTemplateValue(lodashGet(doc, path))
		if ok && ofInterest {
			hasFieldOfInterest = true
		}
		// ICU select: a value that reads "null" picks the template's empty
		// `null {}` branch (after it already counted as a field of interest).
		return s, ok && s != "null"
	}
	destinationAddress, hasDestinationAddress := value("destination.ip", true)
	destinationPort, hasDestinationPort := value("destination.port", true)
	eventCategory, hasEventCategory := value("event.category", false)
	fileName, hasFileName := value("file.name", true)
	hostName, hasHostName := value("host.name", false)
	processName, hasProcessName := value("process.name", true)
	processParentName, hasProcessParentName := value("process.parent.name", true)
	sourceAddress, hasSourceAddress := value("source.ip", true)
	sourcePort, hasSourcePort := value("source.port", true)
	userName, hasUserName := value("user.name", false)

	var b strings.Builder
	if hasEventCategory {
		b.WriteString(eventCategory + " ")
	}
	b.WriteString("event")
	if hasFieldOfInterest {
		b.WriteString(" with")
	}
	if hasProcessName {
		b.WriteString(" process " + processName + ",")
	}
	if hasProcessParentName {
		b.WriteString(" parent process " + processParentName + ",")
	}
	if hasFileName {
		b.WriteString(" file " + fileName + ",")
	}
	if hasSourceAddress {
		b.WriteString(" source " + sourceAddress)
	}
	if hasSourcePort {
		b.WriteString(":" + sourcePort + ",")
	}
	if hasDestinationAddress {
		b.WriteString(" destination " + destinationAddress)
	}
	if hasDestinationPort {
		b.WriteString(":" + destinationPort + ",")
	}
	if hasUserName {
		b.WriteString(" by " + userName)
	}
	if hasHostName {
		b.WriteString(" on " + hostName)
	}
	b.WriteString(" created " + severity + " alert " + name + ".")
	return b.String()
}

// reasonTemplateValue is getFieldTemplateValue:
// `if (!field || !field.length || (field.length === 1 && field[0] === '-')) return null`.
func reasonTemplateValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if x == "" || x == "-" {
			return "", false
		}
		return x, true
	case []any:
		if len(x) == 0 || (len(x) == 1 && x[0] == "-") {
			return "", false
		}
		return jsJoin(x, ", "), true
	}
	// null, numbers, booleans and objects have no length: not shown.
	return "", false
}
