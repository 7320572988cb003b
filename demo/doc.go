// Package demo generates realistic Okta System Log documents, as Elastic's
// Okta integration (or the Filebeat okta module) indexes them, with attack
// scenarios whose alerts for the built-in rule are known in advance, and loads
// them into Elasticsearch with the bulk API.
//
// Generation is deterministic: the same Config gives the same documents, byte
// for byte, in the same order. It never reads the clock; Config.End is the end
// of the generated period.
//
// okta.security_context.is_proxy is true, false or null, as Okta reports it.
// A null is written the way each collector stores it: the Agent integration's
// pipeline drops null values, so Agent documents leave the field out; Filebeat
// documents carry an explicit JSON null. In both shapes a small share of
// events (Okta's client.ipAddress "null") has no security_context, client.ip
// or source.ip at all.
//
// The population: background users (direct logins from home, office and
// phone on workdays in their own time zone; about 4% always on a commercial
// VPN, whose first event of the period is a first occurrence; about 5% on a
// VPN on one or two random days), two service desk admins who reset
// passwords and factors, the Okta System principal (spr…) and an okta…
// principal running jobs, collector outages that deliver events late, and the
// scenarios (see Generator.Scenarios). Oracle computes every alert of the
// built-in rule, background included.
package demo

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config describes a generated data set.
type Config struct {
	// Seed drives every random choice. Two runs with the same Config produce
	// identical documents.
	Seed uint64
	// End is the exclusive end of the period: no document has @timestamp or
	// event.ingested at or after End (events that would arrive later have not
	// arrived yet and are left out). Required.
	End time.Time
	// Days is the length of the period ending at End. Defaults to 8.
	Days int
	// Users is the number of background users. Defaults to 200.
	Users int
	// Namespace is the data stream namespace of Agent documents: they go to
	// logs-okta.system-<Namespace>. Defaults to "default".
	Namespace string
	// Filebeat switches to the Filebeat okta module shape: indices
	// <FilebeatPrefix>-YYYY.MM.DD (by @timestamp), event.module and
	// fileset/service fields, no data_stream.*.
	Filebeat bool
	// FilebeatPrefix names Filebeat indices. Defaults to "filebeat-8.19.0".
	FilebeatPrefix string
	// Lean leaves out what the rule and its alerts do not need (debug
	// context, IP chain, GeoIP/AS copies, user_agent, related): documents
	// of about 1.9 KB instead of 3.3 KB, for indexing benchmarks.
	Lean bool
	// Scenarios adds the attack and edge-case scenarios (see Scenarios).
	Scenarios bool
}

const (
	defaultDays           = 8
	defaultUsers          = 200
	defaultNamespace      = "default"
	defaultFilebeatPrefix = "filebeat-8.19.0"
	maxDays               = 366
)

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Days == 0 {
		c.Days = defaultDays
	}
	if c.Users == 0 {
		c.Users = defaultUsers
	}
	if c.Namespace == "" {
		c.Namespace = defaultNamespace
	}
	if c.FilebeatPrefix == "" {
		c.FilebeatPrefix = defaultFilebeatPrefix
	}
	c.End = c.End.UTC()
	return c
}

// Validate reports every problem with c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	var problems []string
	if c.End.IsZero() {
		problems = append(problems, "End is required")
	}
	if c.Days < 1 || c.Days > maxDays {
		problems = append(problems, fmt.Sprintf("Days %d: want 1 to %d", c.Days, maxDays))
	}
	if c.Users < 0 {
		problems = append(problems, fmt.Sprintf("Users %d: want 0 or more", c.Users))
	}
	if c.Scenarios && c.Days < 3 {
		problems = append(problems, fmt.Sprintf("Days %d: scenarios need at least 3 days", c.Days))
	}
	if strings.ContainsAny(c.Namespace, `\/*?"<>| ,#:`) || strings.ToLower(c.Namespace) != c.Namespace {
		problems = append(problems, fmt.Sprintf("Namespace %q: want a lower-case index name part", c.Namespace))
	}
	if len(problems) > 0 {
		return errors.New("invalid demo config: " + strings.Join(problems, "; "))
	}
	return nil
}

// Start is the beginning of the generated period (End minus Days).
func (c Config) Start() time.Time {
	c = c.withDefaults()
	return c.End.AddDate(0, 0, -c.Days)
}

// Doc is one generated document, ready for the bulk API.
type Doc struct {
	// Index is the target index (or data stream) name.
	Index string
	// ID is the document _id: okta.uuid, as the integration's pipeline sets it.
	ID string
	// Body is the JSON source. The generator never reuses it.
	Body []byte
}
