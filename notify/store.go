package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// errConflict is a version conflict of an update with if_seq_no.
var errConflict = errors.New("version conflict")

// candidate is an alert found by a search, with the version it was read at.
type candidate struct {
	index, id   string
	seqNo, term int
	summary     Summary
	manual      bool
	state       notifyState
}

// version is a document's if_seq_no/if_primary_term.
type version struct{ seqNo, term int }

// store reads and writes delivery state in the alerts indices.
type store struct {
	es      esapi.Transport
	aliases []string
}

// EnsureMapping adds the mapping of esrule.notify (flattened) to the indices
// behind aliases; it changes nothing when it is there already. Deliverer.Run
// calls it; the alerts template carries the same mapping, so it first reads
// the field's mapping (view_index_metadata) and writes only when an index
// lacks it (which needs the manage privilege the runner role does not have).
func EnsureMapping(ctx context.Context, c esapi.Transport, aliases []string) error {
	missing, err := mappingMissing(ctx, c, aliases)
	if err != nil || !missing {
		return err
	}
	body, _ := json.Marshal(map[string]any{"properties": Mapping})
	t := true
	_, err = call(ctx, c, esapi.IndicesPutMappingRequest{
		Index: aliases, Body: bytes.NewReader(body), IgnoreUnavailable: &t, AllowNoIndices: &t,
	}, "add the esrule.notify mapping to "+strings.Join(aliases, ","))
	return err
}

// pendingQuery returns the search body of alerts that action a has neither
// sent nor given up on, written since the given time, newest first.
func pendingQuery(a Action, since time.Time, size int) map[string]any {
	filter := []any{
		map[string]any{"range": map[string]any{"@timestamp": map[string]any{"gte": since.UTC().Format(time.RFC3339Nano)}}},
		map[string]any{"bool": map[string]any{"minimum_should_match": 1, "should": []any{
			map[string]any{"bool": map[string]any{"must_not": []any{
				map[string]any{"term": map[string]any{"kibana.alert.rule.execution.type": "manual"}},
			}}},
			map[string]any{"term": map[string]any{Field + "." + requestedKey: "true"}},
		}}},
	}
	if !a.appliesTo(AllRules) {
		filter = append(filter, map[string]any{"bool": map[string]any{"minimum_should_match": 1, "should": []any{
			map[string]any{"terms": map[string]any{"kibana.alert.rule.rule_id": a.Rules}},
			map[string]any{"terms": map[string]any{"kibana.alert.rule.uuid": a.Rules}},
		}}})
	}
	return map[string]any{
		"size":                size,
		"track_total_hits":    true,
		"seq_no_primary_term": true,
		"sort":                []any{map[string]any{"@timestamp": map[string]any{"order": "desc"}}},
		"_source":             map[string]any{"includes": []any{Field, Field + ".*"}},
		"fields":              append(append([]string{}, summaryFields...), "kibana.alert.rule.execution.type"),
		"query": map[string]any{"bool": map[string]any{
			"filter": filter,
			"must_not": []any{map[string]any{"terms": map[string]any{
				Field + "." + a.Name + ".status": []any{StatusSent, StatusFailed},
			}}},
		}},
	}
}

// storeTimeout bounds every request of the delivery loop to Elasticsearch
// (all attempts of it): a hung cluster makes a round fail and log, not hang.
const storeTimeout = 30 * time.Second

// pending runs pendingQuery; total counts every matching alert.
func (s *store) pending(ctx context.Context, a Action, since time.Time, size int) (cands []candidate, total int, err error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	body, _ := json.Marshal(pendingQuery(a, since, size))
	t := true
	b, err := call(ctx, s.es, esapi.SearchRequest{
		Index: s.aliases, Body: bytes.NewReader(body), IgnoreUnavailable: &t, AllowNoIndices: &t,
	}, "search alerts to deliver for action "+a.Name)
	if err != nil {
		return nil, 0, err
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				Index  string           `json:"_index"`
				ID     string           `json:"_id"`
				SeqNo  int              `json:"_seq_no"`
				Term   int              `json:"_primary_term"`
				Source map[string]any   `json:"_source"`
				Fields map[string][]any `json:"fields"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := decode(b, &res); err != nil {
		return nil, 0, fmt.Errorf("decode alerts search for action %s: %w", a.Name, err)
	}
	for _, h := range res.Hits.Hits {
		cands = append(cands, candidate{
			index: h.Index, id: h.ID, seqNo: h.SeqNo, term: h.Term,
			summary: summaryFromFields(h.Index, h.ID, h.Fields),
			manual:  first(h.Fields, "kibana.alert.rule.execution.type") == "manual",
			state:   parseNotifyState(h.Source),
		})
	}
	return cands, res.Hits.Total.Value, nil
}

// get re-reads the delivery state of an alert and its version (realtime).
func (s *store) get(ctx context.Context, index, id string) (notifyState, version, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	b, err := call(ctx, s.es, esapi.GetRequest{Index: index, DocumentID: id, SourceIncludes: []string{Field, Field + ".*"}},
		"get alert "+id)
	if err != nil {
		return notifyState{}, version{}, err
	}
	var res struct {
		SeqNo  int            `json:"_seq_no"`
		Term   int            `json:"_primary_term"`
		Source map[string]any `json:"_source"`
	}
	if err := decode(b, &res); err != nil {
		return notifyState{}, version{}, fmt.Errorf("decode alert %s: %w", id, err)
	}
	return parseNotifyState(res.Source), version{res.SeqNo, res.Term}, nil
}

// update writes esrule.notify.<action> of an alert if it is still at v; it
// returns the new version, or errConflict.
func (s *store) update(ctx context.Context, index, id string, v version, action string, ds deliveryState) (version, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	body, _ := json.Marshal(stateDoc(action, ds))
	b, err := call(ctx, s.es, esapi.UpdateRequest{
		Index: index, DocumentID: id, Body: bytes.NewReader(body), IfSeqNo: &v.seqNo, IfPrimaryTerm: &v.term,
	}, "record delivery of alert "+id)
	if err != nil {
		return version{}, err
	}
	var res struct {
		SeqNo int `json:"_seq_no"`
		Term  int `json:"_primary_term"`
	}
	if err := decode(b, &res); err != nil {
		return version{}, fmt.Errorf("decode update of alert %s: %w", id, err)
	}
	return version{res.SeqNo, res.Term}, nil
}

// refresh makes recently written alerts searchable.
func (s *store) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	t := true
	_, err := call(ctx, s.es, esapi.IndicesRefreshRequest{Index: s.aliases, IgnoreUnavailable: &t, AllowNoIndices: &t},
		"refresh "+strings.Join(s.aliases, ","))
	return err
}

// call performs req and returns the body of a 2xx response; a 409 is
// errConflict, other statuses an *esclient.Error, both wrapped with what.
func call(ctx context.Context, c esapi.Transport, req esapi.Request, what string) ([]byte, error) {
	r, err := esclient.Do(ctx, c, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if r.Status == http.StatusConflict {
		return nil, fmt.Errorf("%s: %w", what, errConflict)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return r.Body, nil
}

func decode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}
