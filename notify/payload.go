package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// webhookBody is the JSON a generic webhook receives.
type webhookBody struct {
	Action string `json:"action"`
	Summary
}

// WebhookPayload returns the body POSTed to a webhook for s.
func WebhookPayload(action string, s Summary) ([]byte, error) {
	b, err := marshal(webhookBody{Action: action, Summary: s})
	if err != nil {
		return nil, fmt.Errorf("encode webhook body: %w", err)
	}
	return b, nil
}

// Slack Block Kit limits.
const (
	slackHeaderMax = 150
	slackTextMax   = 2000
)

// SlackPayload returns the incoming-webhook message for s: a Block Kit
// message (header, reason, the facts as fields, ids, a button to the link)
// with a plain "text" fallback for notifications.
func SlackPayload(s Summary) ([]byte, error) {
	title := s.RuleName
	if title == "" {
		title = "esrule alert"
	}
	facts := []any{
		mrkdwnField("Severity", s.Severity),
		mrkdwnField("Risk score", strconv.FormatFloat(s.RiskScore, 'f', -1, 64)),
		mrkdwnField("New terms", codeList(s.NewTerms)),
		mrkdwnField("Actor", slackEscape(s.Actor.String())),
		mrkdwnField("Source IP", slackEscape(s.SourceIP)),
		mrkdwnField("Event time", s.Time.UTC().Format(time.RFC3339)),
	}
	blocks := []any{
		map[string]any{"type": "header", "text": plainText(truncate(":rotating_light: "+title, slackHeaderMax))},
	}
	if s.Reason != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": mrkdwn(truncate(slackEscape(s.Reason), slackTextMax))})
	}
	blocks = append(blocks,
		map[string]any{"type": "section", "fields": facts},
		map[string]any{"type": "context", "elements": []any{mrkdwn(truncate(fmt.Sprintf(
			"Rule `%s` · Alert `%s` · Index `%s`", slackEscape(ruleRef(s)), s.AlertID, slackEscape(s.Index)), slackTextMax))}},
	)
	if s.Link != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{map[string]any{
			"type": "button", "text": plainText("Open alert"), "url": s.Link, "action_id": "open_alert",
		}}})
	}
	msg := map[string]any{
		"text": truncate(slackEscape(fmt.Sprintf("%s: %s severity, risk %s, new terms %s (alert %s)", title, orDash(s.Severity),
			strconv.FormatFloat(s.RiskScore, 'f', -1, 64), strings.Join(s.NewTerms, ", "), s.AlertID)), slackTextMax),
		"blocks": blocks,
	}
	b, err := marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode slack message: %w", err)
	}
	return b, nil
}

// marshal encodes v without escaping &, < and > (receivers read the JSON).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func ruleRef(s Summary) string {
	if s.RuleID != "" {
		return s.RuleID
	}
	return s.RuleUUID
}

func plainText(s string) map[string]any {
	return map[string]any{"type": "plain_text", "text": s, "emoji": true}
}

func mrkdwn(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

func mrkdwnField(name, value string) map[string]any {
	return mrkdwn(truncate("*"+name+"*\n"+orDash(value), slackTextMax))
}

func codeList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "`" + slackEscape(strings.ReplaceAll(v, "`", "'")) + "`"
	}
	return strings.Join(out, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
