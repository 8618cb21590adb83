package callee

import (
	"go/parser"
	"testing"
)

func TestIdent(t *testing.T) {
	for src, want := range map[string]string{
		"f":             "f",
		"(f)":           "f",
		"pkg.F":         "F",
		"x.y.M":         "M",
		"Subscribe[E]":  "Subscribe",
		"pkg.Map[K, V]": "Map",
		"func() {}":     "",
		"g()":           "",
		"fs[0]":         "fs",
	} {
		e, err := parser.ParseExpr(src)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if id := Ident(e); id != nil {
			got = id.Name
		}
		if got != want {
			t.Errorf("Ident(%s) = %q, want %q", src, got, want)
		}
	}
}
