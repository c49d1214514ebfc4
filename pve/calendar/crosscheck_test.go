//go:build crosscheck

package calendar

// This file cross-checks Next against glibc itself: it writes random
// events, with start times just before DST transitions in zones with odd
// rules, to a file, and testdata/glibc_next.c runs proxmox-time's loop over
// the real mktime on them. It needs a C compiler and glibc, so it only
// builds with -tags crosscheck.

import (
	"bytes"
	"fmt"
	"math/rand"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func dumpList(l []value) string {
	if len(l) == 0 {
		return "-"
	}
	var p []string
	for _, v := range l {
		he := 0
		if v.hasEnd {
			he = 1
		}
		p = append(p, fmt.Sprintf("%d:%d:%d:%d:%d", v.kind, v.start, v.end, v.rep, he))
	}
	return strings.Join(p, ",")
}

func TestCrossCheckGlibc(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "glibc_next")
	if out, err := exec.Command("cc", "-O2", "-o", bin, "testdata/glibc_next.c").CombinedOutput(); err != nil {
		t.Fatalf("build testdata/glibc_next.c: %v\n%s", err, out)
	}
	var f bytes.Buffer
	r := rand.New(rand.NewSource(1))
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "Europe/London", "Pacific/Chatham", "America/Havana", "Asia/Tehran"}
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	num := func(max int) string { return fmt.Sprint(r.Intn(max)) }
	comp := func(max int) string {
		switch r.Intn(6) {
		case 0:
			return "*"
		case 1:
			return "*/" + fmt.Sprint(1+r.Intn(max-1))
		case 2:
			a := r.Intn(max)
			b := a + r.Intn(max-a)
			return fmt.Sprintf("%d..%d", a, b)
		case 3:
			return num(max) + "/" + fmt.Sprint(1+r.Intn(max-1))
		case 4:
			return num(max) + "," + num(max)
		default:
			return num(max)
		}
	}
	n := 0
	for n < 20000 {
		var parts []string
		if r.Intn(3) == 0 {
			parts = append(parts, pick("mon", "tue..thu", "fri..mon", "sat,sun", "sun"))
		}
		if r.Intn(3) == 0 {
			parts = append(parts, pick("*-*-", "*-", "*-"+comp(12)+"-", "2017..2019-*-")+pick("1", "*", "28..31", "1..7", "*/2", "15"))
		}
		switch r.Intn(4) {
		case 0:
			parts = append(parts, comp(24)+":"+comp(60))
		case 1:
			parts = append(parts, comp(60))
		case 2:
			parts = append(parts, comp(24)+":"+comp(60)+":"+comp(60))
		}
		if len(parts) == 0 {
			parts = append(parts, pick("daily", "hourly", "weekly", "monthly", "minutely"))
		}
		expr := strings.Join(parts, " ")
		if r.Intn(10) == 0 {
			expr += " UTC"
		}
		e, err := Parse(expr)
		if err != nil {
			continue
		}
		zone := zones[r.Intn(len(zones))]
		loc, _ := time.LoadLocation(zone)
		// start near a transition: scan for one in a random year.
		y := 2016 + r.Intn(10)
		st := time.Date(y, time.Month(1+r.Intn(12)), 1+r.Intn(28), r.Intn(24), r.Intn(60), r.Intn(60), 0, loc)
		// find the next offset change within a year and start up to 3h before it
		off0 := offsetAt(st.Unix(), loc)
		for h := int64(0); h < 366*24; h++ {
			if offsetAt(st.Unix()+h*3600, loc) != off0 {
				st = time.Unix(st.Unix()+h*3600-int64(r.Intn(4*3600)), 0)
				break
			}
		}
		last := st.Unix()
		res := int64(-1)
		if nx, ok := e.Next(st.In(loc)); ok {
			res = nx.Unix()
		}
		u := 0
		if e.utc {
			u = 1
		}
		fmt.Fprintf(&f, "%s %d %d %d %d %s %s %s %s %s %s\t%s\n", zone, u, last, res, e.days,
			dumpList(e.year), dumpList(e.month), dumpList(e.day), dumpList(e.hour), dumpList(e.minute), dumpList(e.second), expr)
		n++
	}
	cmd := exec.Command(bin)
	cmd.Stdin = &f
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("glibc_next: %v\n%s", err, out)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "mismatches 0") {
		t.Errorf("Go and glibc disagree:\n%s", out)
	}
	t.Log(strings.TrimSpace(string(out)))
}
