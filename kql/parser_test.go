package kql

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseGrammar covers every rule of Kibana's KQL grammar and the
// consequences of its whitespace and keyword rules.
func TestParseGrammar(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"or lower", `a:b or c:d`, `or(is("a","b"),is("c","d"))`},
		{"or upper", `a:b OR c:d`, `or(is("a","b"),is("c","d"))`},
		{"or mixed case", `a:b oR c:d`, `or(is("a","b"),is("c","d"))`},
		{"and mixed case", `a:b AnD c:d`, `and(is("a","b"),is("c","d"))`},
		{"precedence and over or", `a:1 or b:2 and c:3`, `or(is("a","1"),and(is("b","2"),is("c","3")))`},
		{"n-ary and", `a:b and c:d and e:f`, `and(is("a","b"),is("c","d"),is("e","f"))`},
		{"n-ary or", `a:b or c:d or e:f`, `or(is("a","b"),is("c","d"),is("e","f"))`},
		{"not binds one group", `not a:b and c:d`, `and(not(is("a","b")),is("c","d"))`},
		{"NOT upper case", `NOT a:b`, `not(is("a","b"))`},
		{"not of group", `not (a:b or c:d)`, `not(or(is("a","b"),is("c","d")))`},
		{"grouping", `(a:1 or b:2) and c:3`, `and(or(is("a","1"),is("b","2")),is("c","3"))`},
		{"group with inner spaces", `( a:1 )`, `is("a","1")`},
		{"value list or", `f:(a or b)`, `or(is("f","a"),is("f","b"))`},
		{"value list and not", `f:(a and not b)`, `and(is("f","a"),not(is("f","b")))`},
		{"value list nested lists", `f:(a or (b and c))`, `or(is("f","a"),and(is("f","b"),is("f","c")))`},
		{"value list not list", `f:(not (a or b))`, `not(or(is("f","a"),is("f","b")))`},
		{"value list member with spaces", `a:(b c)`, `is("a","b c")`},
		{"value list quoted member", `a:( "b" )`, `is("a",~"b")`},
		{"okta rule", `event.dataset:okta.system and okta.event_type: (user.session.start or user.authentication.verify) and okta.security_context.is_proxy:true and not okta.actor.id: okta*`,
			`and(is("event.dataset","okta.system"),or(is("okta.event_type","user.session.start"),is("okta.event_type","user.authentication.verify")),is("okta.security_context.is_proxy",true),not(is("okta.actor.id",w["okta" ""])))`},
		{"unquoted value runs across spaces", `message:hello world`, `is("message","hello world")`},
		{"trailing or is text", `a:b or`, `is("a","b or")`},
		{"or without preceding space is text", `a: or b`, `is("a","or b")`},
		{"keyword needs one space each side", `a:b  or c`, `or(is("a","b"),is(null,"c"))`},
		{"escaped keyword", `a:b\or c`, `is("a","bor c")`},
		{"escaped keyword alone", `a:\and`, `is("a","and")`},
		{"escaped keyword keeps case", `a:\OR`, `is("a","OR")`},
		{"escaped n wins over escaped not", `a:\not`, `is("a","ot")`},
		{"field names are literals with spaces", `foo bar:baz`, `is("foo bar","baz")`},
		{"quoted field name", `"my field":x`, `is(~"my field","x")`},
		{"lucene range is text", `a:[1 TO 5]`, `is("a","[1 TO 5]")`},
		{"plain punctuation", `a:x,y?z!/-+=&|~^'@#$%.`, `is("a","x,y?z!/-+=&|~^'@#$%.")`},
		{"quoted keeps stray backslash", `a:"C:\Windows"`, `is("a",~"C:\\Windows")`},
		{"quoted escapes", `a:"q\"b\\s\tt\rr\nn\u0041"`, "is(\"a\",~\"q\\\"b\\\\s\\tt\\rr\\nnA\")"},
		{"quoted star is literal", `a:"foo*"`, `is("a",~"foo*")`},
		{"quoted never trimmed", `a:" x "`, `is("a",~" x ")`},
		{"quoted not classified", `a:"null"`, `is("a",~"null")`},
		{"unquoted escapes", `a:\(\)\:\<\>\"\*\{\}\\`, `is("a","():<>\"*{}\\")`},
		{"escaped star is literal", `a:foo\*`, `is("a","foo*")`},
		{"escaped star then wildcard", `a:foo\**`, `is("a",w["foo*" ""])`},
		{"exists", `a:*`, `is("a",w["" ""])`},
		{"exists trimmed", `a: * `, `is("a",w["" ""])`},
		{"double star is a wildcard", `a:**`, `is("a",w["" "" ""])`},
		{"star with text", `a:* b`, `is("a",w["" " b"])`},
		{"lone star unfielded", `*`, `is(null,w["" ""])`},
		{"match all", `*:*`, `is(w["" ""],w["" ""])`},
		{"empty", ``, `is(w["" ""],w["" ""])`},
		{"spaces only", " \t\r\n\u00a0", `is(w["" ""],w["" ""])`},
		{"escape decoded before trim", `a:foo\n`, `is("a","foo")`},
		{"escaped tab inside", `a:x\ty`, "is(\"a\",\"x\\ty\")"},
		{"unicode escape", `a:caf\u00e9`, `is("a","café")`},
		{"unicode escape upper hex", `a:\u00C9`, `is("a","É")`},
		{"surrogate pair escapes", `a:\ud83d\ude00`, `is("a","😀")`},
		{"lone surrogate", `a:\ud83d`, "is(\"a\",\"\ufffd\")"},
		{"true false null", `a:true or a:false or a:null`, `or(is("a",true),is("a",false),is("a",null))`},
		{"TRUE stays string", `a:TRUE`, `is("a","TRUE")`},
		{"range lt", `a < 5`, `range("a",lt,"5")`},
		{"range lte no spaces", `a<=5`, `range("a",lte,"5")`},
		{"range gt", `a>5`, `range("a",gt,"5")`},
		{"range gte date math", `a >= now-1d/d`, `range("a",gte,"now-1d/d")`},
		{"range quoted", `@timestamp >= "2024-01-01T00:00:00"`, `range("@timestamp",gte,~"2024-01-01T00:00:00")`},
		{"range wildcard value", `a < 5*`, `range("a",lt,w["5" ""])`},
		{"nested", `x:{ y:1 }`, `nested("x",is("y","1"))`},
		{"nested in nested", `x:{ y:{ z:1 } }`, `nested("x",nested("y",is("z","1")))`},
		{"nested with boolean", `x:{ a:1 and not b:2 }`, `nested("x",and(is("a","1"),not(is("b","2"))))`},
		{"unfielded term", `powershell`, `is(null,"powershell")`},
		{"unfielded phrase", `"Invoke-Mimikatz"`, `is(null,~"Invoke-Mimikatz")`},
		{"unfielded wildcard", `mimi*`, `is(null,w["mimi" ""])`},
		{"wildcard field name", `host.*:web01`, `is(w["host." ""],"web01")`},
		{"leading and trailing spaces", "  a:b  ", `is("a","b")`},
		{"tab and newline separate keywords", "a:b\tor\nc:d", `or(is("a","b"),is("c","d"))`},
		{"nbsp separates keywords", "a:b\u00a0or\u00a0c:d", `or(is("a","b"),is("c","d"))`},
		{"JS trim removes BOM", "a:\ufefffoo", `is("a","foo")`},
		{"JS trim removes ideographic space", "a:foo\u3000", `is("a","foo")`},
		{"JS trim keeps NEL", "a:foo\u0085", `is("a","foo\u0085")`},
		{"other unicode spaces are not separators", "a:b\u2003or\u2003c", `is("a","b\u2003or\u2003c")`},
		{"multi valued keyword pitfall", `event.type:"admin, change"`, `is("event.type",~"admin, change")`},
		{"spaces around colon", `a : b`, `is("a","b")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(tt.query)
			require.NoError(t, err)
			require.Equal(t, tt.want, dump(n))
		})
	}
}

// TestParseErrors covers the inputs Kibana's KQL grammar rejects and
// checks offset and message.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		offset int
		msg    string
	}{
		{"not inside a word", `message: cannot connect`, 12, `Expected AND, OR, or end of input but "n" found.`},
		{"not between words", `message: do not disturb`, 12, `Expected AND, OR, or end of input but "n" found.`},
		{"not not", `not not a:b`, 4, `Expected "(", fieldName, or value but "n" found.`},
		{"not needs a space", `not(a:b)`, 3, `Expected ":", "<", "<=", ">", ">=", AND, OR, or end of input but "(" found.`},
		{"or needs a space before", `a:(b)or c:d`, 5, `Expected AND, OR, or end of input but "o" found.`},
		{"or needs a space after", `a:"x" or"y"`, 6, `Expected end of input but "o" found.`},
		{"two clauses without operator", `a:b c:d`, 5, `Expected AND, OR, or end of input but ":" found.`},
		{"lucene range", `a:>5`, 2, `Expected "(", "{", value, or whitespace but ">" found.`},
		{"backslash before plain char", `a:C\Windows`, 3, `Expected AND, OR, or end of input but "\\" found.`},
		{"unclosed list", `a:(b`, 4, `Expected ")", AND, or OR but end of input found.`},
		{"unclosed group", `(a:b`, 4, `Expected ")", AND, or OR but end of input found.`},
		{"unclosed quote", `a:"b`, 2, `Expected "(", "{", value, or whitespace but "\"" found.`},
		{"missing value", `a:`, 2, `Expected "(", "{", value, or whitespace but end of input found.`},
		{"dangling and", `a:b and `, 8, `Expected "(", NOT, fieldName, or value but end of input found.`},
		{"not outside a list", `f:not (a or b)`, 2, `Expected "(", "{", value, or whitespace but "n" found.`},
		{"range without value", `a <`, 3, `Expected literal or whitespace but end of input found.`},
		{"unclosed nested", `x:{ y:1`, 7, `Expected "}", AND, or OR but end of input found.`},
		{"control character found", "a:\"x\"\x01", 5, `Expected AND, OR, or end of input but "\x01" found.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.query)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.msg, se.Message)
			require.Equal(t, tt.offset, se.Offset)
			require.Contains(t, err.Error(), "position")
		})
	}
}

func TestParseLeadingWildcards(t *testing.T) {
	off := ParseOptions{DisallowLeadingWildcards: true}
	for _, q := range []string{`a:*foo`, `a:**`, `*foo`, `a:(b or *c)`} {
		_, err := ParseWith(q, off)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, q)
		require.Equal(t, msgLeadingWildcards, se.Message)
	}
	for _, q := range []string{`a:*`, `a:foo*`, `*a:b`, `*:*`} {
		_, err := ParseWith(q, off)
		require.NoError(t, err, q)
	}
	_, err := ParseWith(`a:(b or *c)`, off)
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 8, se.Offset)
}

func TestParseDepthLimit(t *testing.T) {
	q := strings.Repeat("(", 5000) + "a:b" + strings.Repeat(")", 5000)
	_, err := Parse(q)
	var se *SyntaxError
	require.True(t, errors.As(err, &se))
	require.Contains(t, se.Message, "nested too deeply")

	q = strings.Repeat("(", 500) + "a:b" + strings.Repeat(")", 500)
	n, err := Parse(q)
	require.NoError(t, err)
	require.Equal(t, `is("a","b")`, dump(n))
}

func TestSyntaxErrorPointer(t *testing.T) {
	_, err := Parse(`a:b c:d`)
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "a:b c:d\n-----^", se.Pointer())
}

func TestFieldNames(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{`event.dataset:okta.system and okta.event_type: (a or b) and okta.security_context.is_proxy:true and not okta.actor.id: okta*`,
			[]string{"event.dataset", "okta.event_type", "okta.security_context.is_proxy", "okta.actor.id"}},
		{`host.*:x or @timestamp > now-1d`, []string{"host.*", "@timestamp"}},
		{`x:{ y:1 } and powershell`, []string{"x"}},
		{`a:1 or a:2`, []string{"a"}},
		{``, []string{"*"}},
	}
	for _, tt := range tests {
		n, err := Parse(tt.query)
		require.NoError(t, err)
		require.Equal(t, tt.want, FieldNames(n), tt.query)
	}
}
