// Package logging builds esrule's loggers: ECS JSON lines (the field names
// Elastic's ECS loggers use, so that esrule's own logs can be shipped into
// Elasticsearch) or a console format, coloured only on a terminal.
//
// It configures zerolog as Elastic's go.elastic.co/ecszerolog does (same
// field names), without using it: that module (v0.2.0) rewrites zerolog's
// process-wide settings on every logger it builds, writes ECS 1.6.0, formats
// every time field with a literal "Z" whatever its zone, and brings
// github.com/pkg/errors along. Here the settings are made once, at start
// (UseECS), and times keep their offset.
package logging

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// Formats returns the values of --log-format.
func Formats() []string { return []string{"json", "console"} }

// Levels returns the values of --log-level, most verbose first.
func Levels() []string { return []string{"debug", "info", "warn", "error"} }

// ECSVersion is the ECS version the JSON logs follow (ecs.version).
const ECSVersion = "8.11.0"

// UseECS sets zerolog's process-wide field names and encodings to ECS's:
// @timestamp (UTC, millisecond precision, from clock), log.level, message,
// error.message, error.stack_trace, and durations as integer nanoseconds
// (ECS event.duration). Call it once at process start, before any logger
// is used: zerolog reads these settings on every event.
func UseECS(clock func() time.Time) {
	zerolog.TimestampFieldName = "@timestamp"
	zerolog.LevelFieldName = "log.level"
	zerolog.MessageFieldName = "message"
	zerolog.ErrorFieldName = "error.message"
	zerolog.ErrorStackFieldName = "error.stack_trace"
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	zerolog.TimestampFunc = func() time.Time { return clock().UTC() }
	zerolog.DurationFieldUnit = time.Nanosecond
	zerolog.DurationFieldInteger = true
}

// Options choose a logger.
type Options struct {
	// Format is "json" (ECS, one object per line) or "console".
	Format string
	// Level is the lowest level logged: debug, info, warn or error.
	Level string
	// Color colours the console format (see Color).
	Color bool
}

// ParseLevel reads a --log-level value; anything but debug, info, warn or
// error is refused.
func ParseLevel(s string) (zerolog.Level, error) {
	for _, l := range Levels() {
		if s == l {
			return zerolog.ParseLevel(s)
		}
	}
	return zerolog.NoLevel, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
}

// CheckFormat refuses a --log-format value other than json or console.
func CheckFormat(s string) error {
	for _, f := range Formats() {
		if s == f {
			return nil
		}
	}
	return fmt.Errorf("--log-format %q: want json or console", s)
}

// Check validates o's format and level.
func (o Options) Check() error {
	if _, err := ParseLevel(o.Level); err != nil {
		return err
	}
	return CheckFormat(o.Format)
}

// New returns a logger writing to w as o asks.
func New(w io.Writer, o Options) (zerolog.Logger, error) {
	level, err := ParseLevel(o.Level)
	if err != nil {
		return zerolog.Nop(), err
	}
	if err := CheckFormat(o.Format); err != nil {
		return zerolog.Nop(), err
	}
	if o.Format == "console" {
		return zerolog.New(zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05", NoColor: !o.Color}).
			Level(level).With().Timestamp().Logger(), nil
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("ecs.version", ECSVersion).Logger(), nil
}

// Color reports whether output to w may be coloured: w is a terminal and
// NO_COLOR (https://no-color.org) is unset or empty. lookupEnv is
// os.LookupEnv.
func Color(w io.Writer, lookupEnv func(string) (string, bool)) bool {
	if v, ok := lookupEnv("NO_COLOR"); ok && v != "" {
		return false
	}
	return IsTerminal(w)
}

// IsTerminal reports whether f (an *os.File, or anything with Fd) is a
// terminal.
func IsTerminal(f any) bool {
	fd, ok := f.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(fd.Fd()))
}
