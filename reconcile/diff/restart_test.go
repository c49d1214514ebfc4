package diff

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/reconcile/plan"
)

func TestRestartWindow(t *testing.T) {
	conf := baseConf
	spec := "nameserver: 9.9.9.9\nrestart: {mode: window, window: {schedule: \"sun 03:00\", duration: 2h}}"
	tests := []struct {
		now    time.Time
		reboot bool
		note   string
	}{
		// 2026-11-29 is a Sunday.
		{time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC), true, ""},
		{time.Date(2026, 11, 29, 4, 59, 59, 0, time.UTC), true, ""},
		{time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC), false, "next open at 2026-12-06T03:00:00Z"},
		{time.Date(2026, 11, 29, 2, 59, 0, 0, time.UTC), false, "next open at 2026-11-29T03:00:00Z"},
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), false, "next open at 2026-11-29T03:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339), func(t *testing.T) {
			cp := Diff(ct(t, spec), liveFrom(t, conf, true), Options{Now: tt.now, Revision: "r"})
			got := strings.Join(stepList(cp), " ")
			want := "snapshot set-config"
			if tt.reboot {
				want += " reboot"
			}
			if got != want {
				t.Errorf("steps %q, want %q", got, want)
			}
			// The reboot carries its window, for apply to ask again.
			wantWindow := &plan.RestartWindow{Schedule: "sun 03:00", DurationSeconds: 7200}
			if !tt.reboot {
				wantWindow = nil
			}
			if !reflect.DeepEqual(cp.RestartWindow, wantWindow) {
				t.Errorf("restart window %+v, want %+v", cp.RestartWindow, wantWindow)
			}
			if tt.note != "" && !strings.Contains(strings.Join(cp.Warnings, "\n"), tt.note) {
				t.Errorf("warnings %q lack %q", cp.Warnings, tt.note)
			}
		})
	}
}
