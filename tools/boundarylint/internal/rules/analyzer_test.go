package rules_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/nova-social/nova/tools/boundarylint/internal/rules"
)

// TestNova runs the analyzer over a miniature Nova (testdata/nova, with a
// stand-in pgx): every rule has violating cases, marked with `// want`,
// and clean cases, which must produce nothing.
func TestNova(t *testing.T) {
	dir := filepath.Join(analysistest.TestData(), "nova")
	analysistest.Run(t, dir, rules.Analyzer, "example.com/nova/...")
}

// TestDeclarations runs it over a repository whose declarations are wrong:
// a declared cycle, an unknown dependency, a shared schema, a malformed
// line, a misnamed domain and an undeclared directory.
func TestDeclarations(t *testing.T) {
	dir := filepath.Join(analysistest.TestData(), "baddecl")
	analysistest.Run(t, dir, rules.Analyzer, "example.com/baddecl/...")
}
