package format

import "testing"

// scale's whole-number path gives what the exact rational arithmetic
// gives, at the edges of int64 too.
func TestScaleAsRat(t *testing.T) {
	nums := []string{"0", "1", "7", "8", "512", "1024", "00012", "999999999999999999", "9223372036854775807",
		"9223372036854775808", "8796093022207", "8796093022208", "8388607", "8388608", "1.5", ".5", "2.", "1e3", "", "-1", "+1", "0x10", "1/2"}
	for _, n := range nums {
		for _, u := range []Size{1, KiB, MiB, GiB, TiB} {
			gv, gok := scale(n, u)
			wv, wok := scaleRat(n, u)
			if gv != wv || gok != wok {
				t.Errorf("scale(%q, %d) = %d, %v; the rational's %d, %v", n, u, gv, gok, wv, wok)
			}
		}
	}
}
