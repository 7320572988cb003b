package detect

import "time"

// Summary is the summary of one execution, the JSON line esrule run prints
// per slot (docs/commands.md).
type Summary struct {
	RuleID          string    `json:"rule_id"`
	Slot            time.Time `json:"slot"`
	WindowStart     time.Time `json:"window_start"`
	WindowEnd       time.Time `json:"window_end"`
	HistoryStart    time.Time `json:"history_start"`
	ExecutionUUID   string    `json:"execution_uuid"`
	Status          string    `json:"status"`
	Error           string    `json:"error,omitempty"`
	Terms           int       `json:"terms"`
	NewTerms        int       `json:"new_terms"`
	AlertsCreated   int       `json:"alerts_created"`
	AlertsDuplicate int       `json:"alerts_duplicate"`
	AlertsTruncated int       `json:"alerts_truncated"`
	Warnings        []string  `json:"warnings,omitempty"`
	Coverage        *Coverage `json:"coverage,omitempty"`
	TookMs          int64     `json:"took_ms"`
	ESTookMs        int64     `json:"es_took_ms"`
	Requests        int       `json:"requests"`
	DryRun          bool      `json:"dry_run,omitempty"`
}

// Summarize summarizes an execution and its error.
func Summarize(res Result, err error) Summary {
	s := Summary{
		RuleID: res.RuleID, Slot: res.Slot, WindowStart: res.Window.From, WindowEnd: res.Window.To,
		HistoryStart: res.Window.HistoryStart, ExecutionUUID: res.ExecutionUUID, Status: "succeeded",
		Terms: res.TermsChecked, NewTerms: res.NewTerms, AlertsCreated: res.AlertsCreated,
		AlertsDuplicate: res.AlertsDuplicate, AlertsTruncated: res.AlertsTruncated, Warnings: res.Warnings,
		Coverage: res.Coverage, TookMs: res.Took.Milliseconds(), ESTookMs: res.ESTook.Milliseconds(),
		Requests: res.Requests, DryRun: res.DryRun,
	}
	if err != nil {
		s.Status, s.Error = "failed", err.Error()
	}
	return s
}
