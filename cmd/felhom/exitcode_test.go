package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"nil", context.Background(), nil, exitOK},
		{"plain", context.Background(), errors.New("boom"), exitError},
		{"invalid", context.Background(), withExit(exitInvalid, errors.New("bad spec")), exitInvalid},
		{"wrapped stale", context.Background(), fmt.Errorf("apply: %w", withExit(exitStalePlan, errors.New("digest moved"))), exitStalePlan},
		{"quiet changes", context.Background(), withExit(exitChanges, nil), exitChanges},
		{"cancelled", cancelled, fmt.Errorf("plan: %w", context.Canceled), exitCancelled},
		{"canceled error but live ctx", context.Background(), context.Canceled, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tt.ctx, tt.err, &stderr); got != tt.want {
				t.Errorf("exitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("felhom ")) {
		t.Errorf("version output %q", out.String())
	}
}
