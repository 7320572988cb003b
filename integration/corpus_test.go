//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/internal/ecsindex"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/rulecheck"
)

// The regression corpus: the example rules under rules/, the detection-rules
// TOML files and Kibana exports under testdata/, each loaded, explained and
// (for the corpus cases below) executed on a real Elasticsearch index mapped
// with ECS types, with documents that must alert and documents that must
// not. Together they cover every rule feature esrule supports: filters in
// every shape ([[rule.filters]] tables, NDJSON phrase, phrases, exists,
// range, wildcard, bool, combined, disabled, negated and legacy filters),
// Lucene queries, data_view_id with index, building_block_type, per-rule
// interval and from, max_signals, timestamp_override and _deprecated rules.

// corpusSlot is a multiple of every corpus rule's interval.
var corpusSlot = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// doc is a source document at an offset before the slot.
type doc struct {
	before time.Duration
	fields map[string]any
}

type corpusCase struct {
	file   string // relative to the integration directory
	ruleID string
	// docs are indexed together; alert lists the new terms (as JSON) that
	// must alert, every other document must not.
	docs  []doc
	alert []string
	// truncated is the number of alerts max_signals must cut.
	truncated int
	// caseless adds Elastic Defend's lowercase .caseless multi-fields.
	caseless []string
	check    func(t *testing.T, r *rule.Rule, res detect.Result)
}

func recent(fields map[string]any) doc { return doc{before: time.Minute, fields: fields} }

// with copies base and sets the given fields.
func with(base map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func without(base map[string]any, key string) map[string]any {
	out := with(base)
	delete(out, key)
	return out
}

func corpusCases() []corpusCase {
	lsass := map[string]any{
		"host.os.type": "windows", "event.code": "4656", "winlog.event_data.AccessMask": "0x1010",
		"winlog.event_data.ObjectType": "Process", "winlog.event_data.ObjectName": `\Device\HarddiskVolume3\Windows\System32\lsass.exe`,
		"winlog.event_data.ProcessName": `C:\Users\mallory\procdump64.exe`, "winlog.event_data.SubjectUserName": "mallory",
	}
	webshell := map[string]any{
		"host.os.type": "windows", "event.category": "process", "event.type": "start", "host.id": "web-01",
		"process.parent.name": "w3wp.exe", "process.name": "cmd.exe",
		"process.command_line": "cmd.exe /c whoami", "process.args": []any{"cmd.exe", "/c", "whoami"},
	}
	spooler := map[string]any{
		"event.category": "file", "host.os.type": "windows", "event.type": "creation", "process.name": "spoolsv.exe",
		"file.extension": "dll", "host.id": "print-01", "file.path": `C:\Windows\System32\evil.dll`, "file.name": "evil.dll",
	}
	capnet := map[string]any{
		"event.category": "process", "host.os.type": "linux", "event.type": "start", "event.action": "exec",
		"process.name": "ping2", "process.thread.capabilities.effective": "CAP_NET_RAW", "user.id": "1000",
		"process.executable": "/opt/tools/ping2",
	}
	auth := map[string]any{
		"event.category": "authentication", "event.outcome": "success", "event.dataset": "okta.system",
		"event.risk_score": 50, "source.ip": "81.2.69.160", "host.name": "idp-01", "user.name": "bob",
	}
	webConfig := map[string]any{
		"event.category": "file", "host.os.type": "windows", "event.action": "open", "file.name": "web.config",
		"file.path": `C:\inetpub\VirtualDirectories\80\web.config`, "process.executable": `C:\Users\eve\AppData\Local\Temp\dump.exe`,
		"user.id": "S-1-5-21-1-1001",
	}
	localGroup := map[string]any{
		"host.os.type": "windows", "event.category": "iam", "event.action": "user-member-enumerated",
		"group.name": "Administrators", "winlog.event_data.SubjectUserName": "eve",
		"winlog.event_data.CallerProcessName": `C:\Users\eve\recon.exe`,
	}
	session := map[string]any{"event.action": "user.session.start", "okta.outcome.result": "SUCCESS", "user.name": "u1"}

	return []corpusCase{{
		file: "../rules/windows/credential_access_lsass_memdump_handle_access.toml", ruleID: "208dbe77-01ed-4954-8d44-1e5751cb20de",
		docs: []doc{
			recent(lsass),
			// Negated [[rule.filters]] wildcards, case-insensitive.
			recent(with(lsass, "winlog.event_data.ProcessName", `c:\program files\Vendor\agent.exe`, "winlog.event_data.SubjectUserName", "svc1")),
			recent(with(lsass, "winlog.event_data.ProcessName", `C:\PROGRAM FILES (X86)\Vendor\agent.exe`, "winlog.event_data.SubjectUserName", "svc2")),
			// The query's exclusions and conditions.
			recent(with(lsass, "winlog.event_data.ProcessName", `C:\Windows\System32\svchost.exe`, "winlog.event_data.SubjectUserName", "svc3")),
			recent(with(lsass, "event.code", "4663", "winlog.event_data.SubjectUserName", "svc4")),
			// Seen within the history window: not new.
			recent(with(lsass, "winlog.event_data.SubjectUserName", "alice")),
			{before: 12 * time.Hour, fields: with(lsass, "winlog.event_data.SubjectUserName", "alice")},
		},
		alert: []string{`["C:\\Users\\mallory\\procdump64.exe","mallory"]`},
	}, {
		file: "../rules/windows/persistence_webshell_detection.toml", ruleID: "2917d495-59bd-4250-b395-c29409b76086",
		caseless: []string{"process.name.caseless"},
		docs: []doc{
			recent(webshell),
			// process.name.caseless matches whatever the case of process.name.
			recent(with(webshell, "process.name", "CMD.EXE", "process.command_line", "CMD.EXE /c net user", "process.args", []any{"CMD.EXE", "/c", "net", "user"})),
			// The negated filter: *?:\Program Files\*, case-insensitive.
			recent(with(webshell, "process.command_line", `cmd.exe /c c:\program files\app\run.bat`, "process.args", []any{"cmd.exe", "/c", `c:\program files\app\run.bat`})),
			// The query's exclusions.
			recent(with(webshell, "process.command_line", "cmd.exe /c ver", "process.args", []any{"cmd.exe", "/c", "ver"})),
			recent(with(webshell, "process.parent.name", "explorer.exe", "process.command_line", "cmd.exe /c hostname")),
		},
		alert: []string{`["web-01","CMD.EXE /c net user"]`, `["web-01","cmd.exe /c whoami"]`},
	}, {
		file: "../rules/windows/credential_access_web_config_file_access.toml", ruleID: "5841b80f-a1f8-4c00-a966-d2cc4a7a82e4",
		docs: []doc{
			recent(webConfig),
			// The negated filter ?:\Program Files\Common Files\microsoft shared\Web Server Extensions\*\BIN\*.
			recent(with(webConfig, "process.executable", `D:\program files\common files\Microsoft Shared\Web Server Extensions\16\BIN\psconfig.exe`)),
			// The query.
			recent(with(webConfig, "process.executable", `C:\Windows\System32\inetsrv\w3wp.exe`)),
			recent(with(webConfig, "file.name", "app.config", "process.executable", `C:\tools\reader.exe`)),
		},
		alert: []string{`["C:\\Users\\eve\\AppData\\Local\\Temp\\dump.exe","S-1-5-21-1-1001"]`},
	}, {
		file: "../rules/windows/discovery_privileged_localgroup_membership.toml", ruleID: "291a0de9-937a-4189-94c0-3e847c8b13e4",
		docs: []doc{
			recent(localGroup),
			// Negated filters on C:\Program Files (x86)\*.exe and C:\Program Files\*.exe.
			recent(with(localGroup, "winlog.event_data.CallerProcessName", `c:\program files\Vendor\inventory.exe`)),
			recent(with(localGroup, "winlog.event_data.CallerProcessName", `C:\Program Files (x86)\Vendor\agent.exe`)),
			// The query.
			recent(with(localGroup, "winlog.event_data.CallerProcessName", `C:\Windows\System32\mmc.exe`)),
			recent(with(localGroup, "winlog.event_data.SubjectUserName", "HOST01$", "winlog.event_data.CallerProcessName", `C:\Users\x\machine.exe`)),
			recent(with(localGroup, "group.name", "Users", "winlog.event_data.CallerProcessName", `C:\Users\x\users.exe`)),
		},
		alert: []string{`["C:\\Users\\eve\\recon.exe"]`},
	}, {
		file: "testdata/detection-rules/rules/_deprecated/privilege_escalation_printspooler_service_suspicious_file.toml", ruleID: "5bb4a95d-5a08-48eb-80db-4c3a63ec78a8",
		docs: []doc{
			recent(spooler),
			// The positive filter: ?:\Windows\Sys?????\*.
			recent(with(spooler, "file.path", `D:\data\other.dll`, "file.name", "other.dll")),
			// Negated filters.
			recent(with(spooler, "file.path", `C:\Windows\System32\PrintConfig.dll`, "file.name", "PrintConfig.dll")),
			recent(with(spooler, "file.path", `C:\Windows\system32\spool\DRIVERS\x64\3\drv.dll`, "file.name", "drv.dll")),
			recent(with(spooler, "file.path", `c:\windows\SYSTEM32\SPOOL\prtprocs\x64\proc.dll`, "file.name", "proc.dll")),
			// The query.
			recent(with(spooler, "process.name", "rundll32.exe", "file.name", "byrundll.dll", "file.path", `C:\Windows\System32\byrundll.dll`)),
		},
		alert: []string{`["print-01","evil.dll"]`},
	}, {
		file: "testdata/detection-rules/rules_building_block/discovery_capnetraw_capability.toml", ruleID: "e28b8093-833b-4eda-b877-0873d134cf3c",
		docs: []doc{
			// from = now-119m with interval 60m: 100 minutes back is in the window.
			{before: 100 * time.Minute, fields: capnet},
			// Older than from: not in this slot's window.
			{before: 130 * time.Minute, fields: with(capnet, "process.executable", "/opt/tools/old")},
			recent(with(capnet, "user.id", "0", "process.executable", "/opt/tools/asroot")),
			recent(with(capnet, "process.executable", "/usr/bin/ping")),
			{before: 3 * 24 * time.Hour, fields: with(capnet, "process.executable", "/usr/bin/ping")},
		},
		alert: []string{`["/opt/tools/ping2"]`},
		check: func(t *testing.T, r *rule.Rule, res detect.Result) {
			require.Equal(t, "default", r.BuildingBlockType)
			require.Equal(t, corpusSlot.Add(-119*time.Minute), res.Window.From)
			for _, a := range res.Alerts {
				require.Equal(t, "default", a.Doc["kibana.alert.building_block_type"])
				require.Equal(t, "default", a.Doc["kibana.alert.rule.building_block_type"])
				require.Equal(t, "60m", a.Doc["kibana.alert.rule.interval"])
				require.Equal(t, "now-119m", a.Doc["kibana.alert.rule.from"])
			}
		},
	}, {
		file: "testdata/kibana/corpus_rules.ndjson", ruleID: "e5c0a1f0-0000-4000-8000-00000000c0a1",
		docs: []doc{
			recent(auth),
			recent(with(auth, "user.name", "carol")),
			recent(with(auth, "user.name", "dave", "event.outcome", "failure")),    // query
			recent(with(auth, "user.name", "svc_backup")),                          // query: NOT user.name:svc_*
			recent(with(auth, "user.name", "erin", "event.dataset", "okta.other")), // phrase filter
			recent(with(auth, "user.name", "frank", "source.ip", "10.0.0.2")),      // negated phrases filter
			recent(with(auth, "user.name", "gina", "event.risk_score", 5)),         // range filter
			recent(with(auth, "user.name", "hank", "host.name", "LAB-07")),         // negated wildcard, case-insensitive
			recent(without(with(auth, "user.name", "ivan"), "source.ip")),          // legacy exists filter
			recent(with(auth, "user.name", "alice")),                               // seen before
			{before: 3 * 24 * time.Hour, fields: with(auth, "user.name", "alice")}, // in the history window
			{before: 9 * 24 * time.Hour, fields: with(auth, "user.name", "carol")}, // before the history window
		},
		alert: []string{`["bob"]`, `["carol"]`},
		check: func(t *testing.T, r *rule.Rule, res detect.Result) {
			require.Equal(t, "lucene", r.Language)
			require.Equal(t, "logs-corpus", r.DataViewID)
			for _, a := range res.Alerts {
				params := a.Doc["kibana.alert.rule.parameters"].(map[string]any)
				require.Equal(t, "logs-corpus", params["data_view_id"])
				require.Len(t, params["filters"], 7)
			}
		},
	}, {
		file: "testdata/kibana/corpus_rules.ndjson", ruleID: "e5c0a1f0-0000-4000-8000-00000000c0b1",
		docs: []doc{
			recent(session),
			recent(with(session, "user.name", "u2", "okta.outcome.result", "ALLOW")),
			recent(with(session, "user.name", "u3", "okta.outcome.result", "FAILURE")), // combined OR filter
			recent(with(session, "user.name", "u4", "okta.debug_context.debug_data.risk_level", "HIGH",
				"okta.debug_context.debug_data.behaviors", "New Geo-Location")), // negated bool filter
			recent(with(session, "user.name", "u5", "event.action", "user.session.end")), // query
		},
		// Two new terms; max_signals 1 keeps the first in composite order.
		alert:     []string{`["u1"]`},
		truncated: 1,
		check: func(t *testing.T, r *rule.Rule, res detect.Result) {
			require.Equal(t, 1, r.MaxSignals)
			require.Equal(t, 2, res.NewTerms)
			require.Contains(t, res.Warnings, detect.MaxSignalsWarning)
		},
	}}
}

func TestIntegrationCorpus(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	types := ecsTypes(t)
	for _, tc := range corpusCases() {
		t.Run(filepath.Base(tc.file)+"/"+tc.ruleID[:8], func(t *testing.T) {
			r := loadCorpusRule(t, tc.file, tc.ruleID)
			index := uniqueName(t, "esrule-it-corpus")
			createECSIndex(t, c, index, types, ecsindex.Extras{Caseless: tc.caseless})
			var bulk bytes.Buffer
			for _, d := range tc.docs {
				src := with(d.fields)
				ts := corpusSlot.Add(-d.before).Format(time.RFC3339)
				src["@timestamp"], src["event.ingested"] = ts, ts
				meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": index}})
				body, err := json.Marshal(src)
				require.NoError(t, err)
				bulk.Write(meta)
				bulk.WriteByte('\n')
				bulk.Write(body)
				bulk.WriteByte('\n')
			}
			bulkIndexDocs(t, c, bulk.Bytes())

			rc := *r
			rc.Index = []string{index}
			// The rule's fields exist in the index with usable types.
			problems, err := rulecheck.Check(ctx, rulecheck.ES{Transport: c}, &rc)
			require.NoError(t, err)
			for _, p := range problems {
				require.NotContains(t, p.Reason, "conflicting types", p.String())
				require.NotContains(t, p.Reason, "cannot be aggregated", p.String())
				require.NotContains(t, p.Field, "index", p.String())
			}

			ec := newEngine(t, engine.Config{}).Client()
			ex := &detect.Executor{Searcher: ec, FieldCaps: ec.FieldCaps, Logger: zerolog.Nop()}
			slot, err := detect.SlotAt(&rc, corpusSlot)
			require.NoError(t, err)
			require.Equal(t, corpusSlot, slot)
			res, err := ex.Run(ctx, &rc, slot, detect.RunOptions{DryRun: true})
			require.NoError(t, err)
			var got []string
			for _, a := range res.Alerts {
				b, err := json.Marshal(a.Doc["kibana.alert.new_terms"])
				require.NoError(t, err)
				got = append(got, string(b))
			}
			sort.Strings(got)
			want := slices.Clone(tc.alert)
			sort.Strings(want)
			require.Equal(t, want, got, "alerts of %s", tc.file)
			require.Equal(t, tc.truncated, res.AlertsTruncated)
			require.NotNil(t, res.Coverage)
			if tc.check != nil {
				tc.check(t, &rc, res)
			}
		})
	}
}

// TestIntegrationCorpusLoadsAndExplains loads every rule under rules/ and
// testdata/ and explains it with field types from a real index.
func TestIntegrationCorpusLoadsAndExplains(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	index := uniqueName(t, "esrule-it-corpus-explain")
	createECSIndex(t, c, index, ecsTypes(t), ecsindex.Extras{})
	rules, err := rule.Load([]string{"../rules", "testdata/detection-rules", "testdata/kibana"})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rules), 25)
	var fc detect.FieldCapsFunc = newEngine(t, engine.Config{}).Client().FieldCaps
	withFilters := 0
	for _, r := range rules {
		rc := *r
		rc.Index = []string{index}
		slot, err := detect.SlotAt(&rc, corpusSlot)
		require.NoError(t, err, r.Origin)
		w, err := detect.WindowAt(&rc, slot)
		require.NoError(t, err, r.Origin)
		filter, err := detect.QueryFilter(ctx, fc, &rc)
		require.NoError(t, err, r.Origin)
		phases, err := detect.ExplainPhases(&rc, w, filter)
		require.NoError(t, err, r.Origin)
		require.NotEmpty(t, phases)
		if len(r.Filters) > 0 {
			withFilters++
			b := filter["bool"].(map[string]any)
			require.NotEmpty(t, append(b["filter"].([]any), b["must_not"].([]any)...), r.Origin)
		}
		// The requests without placeholders are valid for Elasticsearch.
		for _, p := range phases {
			res, err := c.Search(c.Search.WithContext(ctx), c.Search.WithIndex(index), c.Search.WithBody(bytes.NewReader(p.Body)))
			require.NoError(t, err)
			body := readAll(t, res.Body)
			res.Body.Close()
			if strings.HasSuffix(p.Name, "first page") || strings.Contains(p.Name, "coverage") { // the others hold placeholders
				require.False(t, res.IsError(), "%s %s: %s", r.Origin, p.Name, body)
			}
		}
	}
	require.GreaterOrEqual(t, withFilters, 7)
}

// TestIntegrationRuleCheck: `rules validate --es` finds missing fields,
// conflicting types, unusable types and patterns matching nothing.
func TestIntegrationRuleCheck(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	base := uniqueName(t, "esrule-it-rulecheck")
	for name, mapping := range map[string]string{
		base + "-a": `{"mappings":{"properties":{"@timestamp":{"type":"date"},"user":{"properties":{"name":{"type":"keyword"}}},"message":{"type":"text"},"event":{"properties":{"ingested":{"type":"keyword"},"dataset":{"type":"keyword"}}}}}}`,
		base + "-b": `{"mappings":{"properties":{"@timestamp":{"type":"date"},"user":{"properties":{"name":{"type":"long"}}},"event":{"properties":{"dataset":{"type":"keyword"}}}}}}`,
	} {
		res, err := c.Indices.Create(name, c.Indices.Create.WithBody(strings.NewReader(mapping)))
		require.NoError(t, err)
		require.False(t, res.IsError(), readAll(t, res.Body))
		res.Body.Close()
	}
	r := &rule.Rule{
		RuleID: "check", Origin: "check.toml", Language: "kuery", Index: []string{base + "-*", base + "-nothing-*"},
		Query: "event.dataset:okta.system and okta.actor.idd:*", NewTermsFields: []string{"user.name", "message"},
		TimestampOverride: "event.ingested",
		Filters:           []json.RawMessage{json.RawMessage(`{"meta":{"negate":true},"query":{"match_phrase":{"host.nmae":"x"}}}`)},
	}
	ps, err := rulecheck.Check(context.Background(), rulecheck.ES{Transport: c}, r)
	require.NoError(t, err)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.String()
	}
	where := base + "-*, " + base + "-nothing-*"
	require.Equal(t, []string{
		`check.toml: index: index pattern "` + base + `-nothing-*" matches no index`,
		`check.toml: new_terms_fields: field "user.name" has conflicting types: keyword in ` + base + `-a, long in ` + base + `-b`,
		`check.toml: new_terms_fields: field "message" cannot be aggregated (type text in ` + base + `-a); new-terms fields need keyword, numeric, ip, boolean or date fields`,
		`check.toml: timestamp_override: field "event.ingested" has type keyword in ` + base + `-a; a timestamp override must be a date or date_nanos field`,
		`check.toml: query: field "okta.actor.idd" is not mapped in any index matching ` + where,
		`check.toml: filters: field "host.nmae" is not mapped in any index matching ` + where,
	}, got)
}

func loadCorpusRule(t *testing.T, file, ruleID string) *rule.Rule {
	t.Helper()
	rules, err := rule.Load([]string{file})
	require.NoError(t, err)
	for _, r := range rules {
		if r.RuleID == ruleID {
			return r
		}
	}
	t.Fatalf("%s has no rule %s", file, ruleID)
	return nil
}

func ecsTypes(t *testing.T) map[string]string {
	t.Helper()
	tsv, err := os.ReadFile("../alerts/ecs_fields.tsv")
	require.NoError(t, err)
	types, err := ecsindex.Types(string(tsv))
	require.NoError(t, err)
	return types
}

func createECSIndex(t *testing.T, c *elasticsearch.Client, index string, types map[string]string, extras ecsindex.Extras) {
	t.Helper()
	mapping := ecsindex.Mapping(types)
	extras.Apply(mapping)
	settings := extras.Settings()
	settings["number_of_shards"], settings["number_of_replicas"] = 1, 0
	settings["index.mapping.total_fields.limit"] = 20000
	body, err := json.Marshal(map[string]any{"settings": settings, "mappings": mapping})
	require.NoError(t, err)
	res, err := c.Indices.Create(index, c.Indices.Create.WithBody(bytes.NewReader(body)))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), readAll(t, res.Body))
}

func bulkIndexDocs(t *testing.T, c *elasticsearch.Client, body []byte) {
	t.Helper()
	res, err := c.Bulk(bytes.NewReader(body), c.Bulk.WithRefresh("true"))
	require.NoError(t, err)
	defer res.Body.Close()
	var r struct {
		Errors bool            `json:"errors"`
		Items  json.RawMessage `json:"items"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&r))
	require.False(t, r.Errors, string(r.Items))
}

func readAll(t *testing.T, r interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	require.NoError(t, err)
	return b.String()
}
