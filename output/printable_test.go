package output

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

// hostileText holds terminal escape sequences (retitle, clear screen, OSC 8
// link, C1 CSI), a bidi override and invalid UTF-8.
const hostileText = "evil\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://x\x1b\\link\u009b31m\u202etxt.exe\xff"

func requireNoControl(t *testing.T, out string) {
	t.Helper()
	for _, r := range out {
		if r == '\n' || r == ' ' {
			continue
		}
		require.False(t, unsafeRune(r), "control character %U in output:\n%q", r, out)
	}
	require.NotContains(t, out, "\xff")
}

func TestPrintable(t *testing.T) {
	require.Equal(t, "plain ü text", Printable("plain ü text"))
	require.Equal(t, `evil\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://x\x1b\link\u009b31m\u202etxt.exe\xff`, Printable(hostileText))
	require.Equal(t, `a\x09b\x0ac`, Printable("a\tb\nc"))
}

func TestRulesTableEscapes(t *testing.T) {
	r := rule.Builtin()
	r.Name, r.Index, r.NewTermsFields = hostileText, []string{hostileText}, []string{hostileText}
	var out bytes.Buffer
	require.NoError(t, RulesTable(&out, []*rule.Rule{r}))
	requireNoControl(t, out.String())
	require.Contains(t, out.String(), `evil\x1b]0;pwned\x07`)
}
