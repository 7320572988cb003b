package alerts

import (
	"crypto/sha1"
	"encoding/hex"
	"time"
)

// hitVersion is String(hit._version) in Kibana: no new-terms search asks for
// versions, so it is always the literal "undefined" (docs/alerts.md, the _id).
const hitVersion = "undefined"

// ID is the alert _id and kibana.alert.uuid Kibana's new_terms rule computes:
// object-hash SHA-1 of [index, docID, "undefined", "<space>:<rule SO id>", newTerms].
// newTerms hold decoded JSON values (string, float64, json.Number, integers,
// bool, nil) in new_terms_fields order.
func ID(index, docID, space, ruleSavedObjectID string, newTerms []any) string {
	return idWithVersion(index, docID, hitVersion, space, ruleSavedObjectID, newTerms)
}

func idWithVersion(index, docID, version, space, ruleSavedObjectID string, newTerms []any) string {
	terms := newTerms
	if terms == nil {
		terms = []any{}
	}
	return objectHash([]any{index, docID, version, space + ":" + ruleSavedObjectID, terms})
}

// ExecutionUUID is a deterministic execution id for one (space, rule, slot):
// a version-5-style UUID built from the SHA-1 of the three, so that a re-run
// of a slot carries the same kibana.alert.rule.execution.uuid.
func ExecutionUUID(space, ruleSOID string, slot time.Time) string {
	h := sha1.New()
	for _, part := range []string{space, ruleSOID, slot.UTC().Format(time.RFC3339Nano)} {
		_, _ = h.Write([]byte(part))
		_, _ = h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x50 // version 5
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
