package demo

import (
	"io"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
)

// BarReporter returns a LoadConfig.Report that draws a progress bar on w (a
// terminal). Use it with ReportEvery of about 200ms.
func BarReporter(w io.Writer, total int64) func(LoadProgress) {
	max := total
	if max <= 0 {
		max = -1
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("loading"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("docs"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
	)
	return func(p LoadProgress) {
		_ = bar.Set64(p.Done)
		if p.Final {
			_ = bar.Finish()
		}
	}
}

// LogReporter returns a LoadConfig.Report that writes one structured line
// per report (for logs that are not a terminal).
func LogReporter(l zerolog.Logger) func(LoadProgress) {
	return func(p LoadProgress) {
		ev := l.Info().Bool("final", p.Final).Int64("documents", p.Done).Int64("total", p.Total)
		if p.Elapsed > 0 {
			ev = ev.Float64("docs_per_second", float64(p.Done)/p.Elapsed.Seconds()).Dur("event.duration", p.Elapsed)
		}
		ev.Msg("loading demo data")
	}
}
