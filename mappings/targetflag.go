package mappings

// String is the name of the target (the flag.Value of --alerts-target).
func (t *Target) String() string {
	if t == nil {
		return ""
	}
	return string(*t)
}

// Set parses s (ParseTarget) into t.
func (t *Target) Set(s string) error {
	v, err := ParseTarget(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Type names the flag's value type in help texts.
func (t *Target) Type() string { return "target" }
