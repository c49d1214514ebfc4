package wire

import "testing"

func ptr[T any](v T) *T { return &v }

func mustUPID(t *testing.T, s string) UPID {
	t.Helper()
	u, err := ParseUPID(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
