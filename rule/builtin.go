package rule

import "encoding/json"

// BuiltinRuleID is the rule_id of the built-in rule.
const BuiltinRuleID = "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd"

// builtinNote is the investigation guide shipped with the built-in rule.
const builtinNote = `## Triage and analysis

### Investigating First Occurrence of Okta User Session Started via Proxy

An Okta session was started (or a sign-in verified) through a proxy by an actor
that did no such thing in the previous 7 days. Anonymising proxies and VPNs are
a common way for an attacker holding stolen credentials to hide where they
connect from.

#### Possible investigation steps
- Who: okta.actor.id, okta.actor.alternate_id, okta.actor.display_name, okta.actor.type.
- From where: okta.client.ip, okta.client.zone, okta.security_context.isp and
  okta.security_context.as.organization.name, okta.request.ip_chain (the proxy
  hops) and okta.debug_context.debug_data.flattened.
- With what: okta.client.user_agent.raw_user_agent, okta.client.device.
- Did it work: okta.outcome.result and okta.outcome.reason.
- What came next: the actor's other okta.event_type values around the alert.

### False positive analysis
- Users of privacy VPNs or corporate egress proxies; confirm with the user.

### Response and remediation
- If the sign-in is not the user's: end the user's sessions, reset the password
  and MFA factors, and review recent changes made by the account.
- If proxies are expected for this user, tune the rule with a query condition.

## Setup

Requires Okta System Log data from the Okta integration (logs-okta.system-*) or
the Filebeat okta module (filebeat-*).
`

// Builtin returns the built-in rule: Elastic's "First Occurrence of Okta User
// Session Started via Proxy" as its documentation page describes version 105
// (new-terms field okta.actor.id alone; docs/commands.md). Each call returns a new
// copy.
func Builtin() *Rule {
	r := &Rule{
		ID:          BuiltinRuleID,
		RuleID:      BuiltinRuleID,
		Name:        "First Occurrence of Okta User Session Started via Proxy",
		Description: "Identifies the first occurrence of an Okta user session started via a proxy.",
		Type:        TypeNewTerms,
		Language:    DefaultLanguage,
		Query: "event.dataset:okta.system and okta.event_type: (user.session.start or user.authentication.verify) " +
			"and okta.security_context.is_proxy:true and not okta.actor.id: okta*",
		Index:              []string{"filebeat-*", "logs-okta*"},
		NewTermsFields:     []string{"okta.actor.id"},
		HistoryWindowStart: "now-7d",
		From:               DefaultFrom,
		To:                 DefaultTo,
		Interval:           DefaultInterval,
		MaxSignals:         DefaultMaxSignals,
		TimestampOverride:  "event.ingested",
		Severity:           "medium",
		RiskScore:          47,
		SeverityMapping:    []SeverityMapping{},
		RiskScoreMapping:   []RiskScoreMapping{},
		Threat: []Threat{{
			Framework: "MITRE ATT&CK",
			Tactic: ThreatRef{
				ID:        "TA0001",
				Name:      "Initial Access",
				Reference: "https://attack.mitre.org/tactics/TA0001/",
			},
			Technique: []Technique{{ThreatRef: ThreatRef{
				ID:        "T1133",
				Name:      "External Remote Services",
				Reference: "https://attack.mitre.org/techniques/T1133/",
			}}},
		}},
		Tags: []string{
			"Tactic: Initial Access",
			"Use Case: Identity and Access Audit",
			"Data Source: Okta",
			"Resources: Investigation Guide",
		},
		References: []string{
			"https://developer.okta.com/docs/reference/api/system-log/",
			"https://developer.okta.com/docs/reference/api/event-types/",
			"https://developer.okta.com/docs/reference/api/system-log/#issuer-object",
			"https://www.elastic.co/security-labs/testing-okta-visibility-and-detection-dorothy",
			"https://sec.okta.com/articles/2023/08/cross-tenant-impersonation-prevention-and-detection",
			"https://www.elastic.co/security-labs/monitoring-okta-threats-with-elastic-security",
			"https://www.elastic.co/security-labs/starter-guide-to-understanding-okta",
		},
		Author:         []string{"Elastic"},
		FalsePositives: []string{},
		License:        "Elastic License v2",
		Note:           builtinNote,
		Version:        105,
		ExceptionsList: []json.RawMessage{},
		Enabled:        true,
		Space:          DefaultSpace,
		Origin:         OriginBuiltin,
	}
	_ = r.Normalize() // the built-in rule is valid: builtin_test checks it
	return r
}
