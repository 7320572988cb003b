package output

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/logging"
)

// ProgressModes returns the values of backfill's --progress: auto (a bar on
// a terminal, else log lines), bar, log or none.
func ProgressModes() []string { return []string{"auto", "bar", "log", "none"} }

// CheckProgress refuses a --progress value other than ProgressModes.
func CheckProgress(mode string) error {
	for _, m := range ProgressModes() {
		if mode == m {
			return nil
		}
	}
	return fmt.Errorf("--progress %q: want auto, bar, log or none", mode)
}

// BackfillDisplay returns the progress display of the backfill of rule
// ruleID that mode asks for: a bar on w, a log line every interval on log,
// or nothing; auto is a bar when w is a terminal, else log lines.
func BackfillDisplay(mode string, w io.Writer, log zerolog.Logger, every time.Duration, clock func() time.Time, ruleID string) backfill.Display {
	if mode == "auto" {
		mode = "log"
		if logging.IsTerminal(w) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		return backfill.NewBarDisplay(w, ruleID)
	case "log":
		return backfill.NewLogDisplay(log, every, clock)
	}
	return backfill.NoDisplay{}
}

// Confirm writes question to w, followed by " [y/N] ", and reads the answer
// from in: true for y or yes. When ctx ends first (SIGINT at the question),
// it ends the line and returns ctx's error.
func Confirm(ctx context.Context, in io.Reader, w io.Writer, question string) (bool, error) {
	fmt.Fprint(w, question+" [y/N] ")
	answers := make(chan string, 1)
	go func() {
		answer, _ := bufio.NewReader(in).ReadString('\n')
		answers <- answer
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(w)
		return false, ctx.Err()
	case answer := <-answers:
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "y", "yes":
			return true, nil
		}
	}
	return false, nil
}
