package main

import (
	"fmt"
	"io"
	"log/slog"
)

// checkLogFlags refuses a --log-format or --log-level felhom does not know,
// before any command runs.
func (g *globalOptions) checkLogFlags() error {
	switch g.logFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: must be text or json", g.logFormat)
	}
	if g.logLevel != "" {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(g.logLevel)); err != nil {
			return fmt.Errorf("--log-level %q: must be debug, info, warn or error", g.logLevel)
		}
	}
	return nil
}

// logger is the logger every command writes to w with: the format and level
// of --log-format and --log-level, level def when --log-level is not given.
// The flags were checked by checkLogFlags; a zero globalOptions (tests that
// call a command's run function directly) logs text at def.
func (g *globalOptions) logger(w io.Writer, def slog.Level) *slog.Logger {
	lv := def
	if g != nil && g.logLevel != "" {
		_ = lv.UnmarshalText([]byte(g.logLevel))
	}
	ho := &slog.HandlerOptions{Level: lv}
	if g != nil && g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
