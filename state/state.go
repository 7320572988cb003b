// Package state keeps esrule's per-rule state in Elasticsearch (docs/state.md): the
// last completed slot, the last execution's status and counts, the lease that
// lets one replica execute a rule at a time, reported gaps, and backfill
// checkpoints. Every write uses optimistic concurrency (if_seq_no and
// if_primary_term), so two writers never silently overwrite each other.
package state

import (
	"errors"
	"time"
)

// Status values of the last execution.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// ErrConflict means the document changed since it was read (HTTP 409).
var ErrConflict = errors.New("state changed concurrently")

// RuleState is the state document of one rule. Times are UTC.
type RuleState struct {
	RuleID            string     `json:"rule_id"`
	RuleUUID          string     `json:"rule_uuid"`
	RuleName          string     `json:"rule_name,omitempty"`
	Space             string     `json:"space"`
	LastCompletedSlot *time.Time `json:"last_completed_slot,omitempty"`
	LastRunAt         *time.Time `json:"last_run_at,omitempty"`
	LastSuccessAt     *time.Time `json:"last_success_at,omitempty"`
	LastStatus        string     `json:"last_status,omitempty"`
	LastError         string     `json:"last_error,omitempty"`
	LastExecutionUUID string     `json:"last_execution_uuid,omitempty"`
	Counts            Counts     `json:"counts"`
	Durations         Durations  `json:"durations"`
	UpdatedAt         time.Time  `json:"updated_at"`
	Lease             *Lease     `json:"lease,omitempty"`
	Gap               *Gap       `json:"gap,omitempty"`
}

// Counts of the last execution.
type Counts struct {
	TermsChecked    int `json:"terms_checked"`
	NewTerms        int `json:"new_terms"`
	AlertsCreated   int `json:"alerts_created"`
	AlertsDuplicate int `json:"alerts_duplicate"`
}

// Durations of the last execution, in milliseconds.
type Durations struct {
	TookMS   int64 `json:"took_ms"`
	ESTookMS int64 `json:"es_took_ms"`
}

// Gap is a range of slots older than the catch-up limit that were not
// executed; `esrule backfill --from From --to To` fills it.
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Backfill is the checkpoint of one backfill range of one rule: every slot
// whose end falls in (From, DoneUntil] is done.
type Backfill struct {
	Kind      string    `json:"kind"` // always "backfill"
	RuleID    string    `json:"rule_id"`
	RuleUUID  string    `json:"rule_uuid"`
	Space     string    `json:"space"`
	Backfill  Range     `json:"backfill"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Range is a backfill range and its progress.
type Range struct {
	ID        string    `json:"id"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	DoneUntil time.Time `json:"done_until"`
}

// Version identifies the stored revision of a document for optimistic
// concurrency. The zero Version means "not stored yet".
type Version struct {
	SeqNo       int64
	PrimaryTerm int64
}

// IsZero reports whether the document did not exist when read.
func (v Version) IsZero() bool { return v.PrimaryTerm == 0 }

// RuleDocID is the state document id of a rule: "<space>:<rule saved-object id>".
func RuleDocID(space, ruleUUID string) string { return space + ":" + ruleUUID }

// BackfillDocID is the checkpoint document id of a backfill range.
func BackfillDocID(space, ruleUUID string, from, to time.Time) string {
	return "backfill:" + space + ":" + ruleUUID + ":" + from.UTC().Format(time.RFC3339) + ":" + to.UTC().Format(time.RFC3339)
}
