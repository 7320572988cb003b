package main

import (
	"io"
	"os"

	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// consoleWriter is zerolog's console writer on w, without colours when w is
// not a terminal (docker compose logs, files, pipes) or NO_COLOR is set
// (https://no-color.org), so that logs hold no escape sequences.
func consoleWriter(w io.Writer) zerolog.ConsoleWriter {
	return zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05", NoColor: !colourful(w)}
}

func colourful(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
