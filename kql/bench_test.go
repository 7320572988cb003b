package kql

import "testing"

const oktaQuery = `event.dataset:okta.system and okta.event_type: (user.session.start or user.authentication.verify) and okta.security_context.is_proxy:true and not okta.actor.id: okta*`

// oktaFields are the field specs field caps gives for the Okta rule's fields.
var oktaFields = []FieldSpec{
	{Name: "event.dataset", Type: "string", ESTypes: []string{"keyword"}},
	{Name: "okta.actor.id", Type: "string", ESTypes: []string{"keyword"}},
	{Name: "okta.event_type", Type: "string", ESTypes: []string{"keyword"}},
	{Name: "okta.security_context.is_proxy", Type: "boolean", ESTypes: []string{"boolean"}},
}

func benchmarkOkta(b *testing.B, o Options) {
	b.ReportAllocs()
	for b.Loop() {
		n, err := Parse(oktaQuery)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ToDSL(n, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOktaUntyped(b *testing.B) { benchmarkOkta(b, DetectionEngine(nil)) }
func BenchmarkOktaTyped(b *testing.B)   { benchmarkOkta(b, DetectionEngine(oktaFields)) }

func BenchmarkOktaParseOnly(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(oktaQuery); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSyntaxError(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`message: cannot connect`); err == nil {
			b.Fatal("want error")
		}
	}
}
