package suggest

import "testing"

func TestNearest(t *testing.T) {
	known := []string{"timestamp_override", "timestamp_override_fallback_disabled", "interval", "index", "from", "to", "max_signals"}
	for _, c := range []struct{ name, want string }{
		{"timestamp_overide", "timestamp_override"},
		{"tiemstamp_override", "timestamp_override"},
		{"intervall", "interval"},
		{"Interval", "interval"},
		{"indx", "index"},
		{"fro", "from"},
		{"max_signal", "max_signals"},
		{"severity", ""},
		{"t", "to"},
		{"xyz", ""},
	} {
		if got := Nearest(c.name, known); got != c.want {
			t.Errorf("Nearest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"ABC", "abc", 0},
	} {
		if got := distance(c.a, c.b); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	type inner struct {
		APIKey string `toml:"api_key"`
		URL    any    `toml:"url"`
	}
	type action struct {
		Name string `toml:"name"`
		URL  string `toml:"url"`
	}
	type cfg struct {
		LogLevel string   `toml:"log_level"`
		ES       *inner   `toml:"elasticsearch"`
		Actions  []action `toml:"action"`
	}
	got := UnknownKeys([][]string{{"log_levle"}, {"elasticsearch", "apikey"}, {"action", "urll"}, {"colour"}}, cfg{})
	want := []string{
		"log_levle (did you mean log_level?)",
		"elasticsearch.apikey (in [elasticsearch]; did you mean api_key?)",
		"action.urll (in [action]; did you mean url?)",
		"colour",
	}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %q, want %q", got[i], want[i])
		}
	}
}
