// Command boundarylint enforces Nova's domain boundaries.
//
// As a vet tool it checks every package:
//
//	go build -o bin/boundarylint ./tools/boundarylint
//	go vet -vettool=bin/boundarylint ./...
//
// It also has three modes of its own, run from the repository root:
//
//	boundarylint -migrations migrations/   check that each migrations/<domain>/*.sql touches only its schema
//	boundarylint -graph [-readme README.md] print (or embed in the README) the Mermaid domain and event graph
//	boundarylint -report                   list the dynamic SQL allowed by //boundarylint:allow, with reasons
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
	"github.com/nova-social/nova/tools/boundarylint/internal/graph"
	"github.com/nova-social/nova/tools/boundarylint/internal/migcheck"
	"github.com/nova-social/nova/tools/boundarylint/internal/rules"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "-migrations", "--migrations", "-graph", "--graph", "-report", "--report":
			os.Exit(command(os.Args[1:]))
		case "-V=full":
			os.Exit(version())
		}
	}
	unitchecker.Main(rules.Analyzer)
}

func command(args []string) int {
	fs := flag.NewFlagSet("boundarylint", flag.ContinueOnError)
	migrations := fs.String("migrations", "", "check the SQL migrations in this directory")
	showGraph := fs.Bool("graph", false, "print the domain and event graph as Mermaid")
	readme := fs.String("readme", "", "with -graph: rewrite the diagram between the markers of this README instead of printing it")
	report := fs.Bool("report", false, "list the dynamic SQL allow directives")
	root := fs.String("root", ".", "repository root")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	switch {
	case *migrations != "":
		err = checkMigrations(*root, *migrations)
	case *showGraph:
		err = printGraph(*root, *readme)
	case *report:
		err = printReport(*root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "boundarylint:", err)
		return 1
	}
	return 0
}

func checkMigrations(root, dir string) error {
	set, err := decl.Load(root)
	if err != nil {
		return err
	}
	if len(set.Domains) == 0 {
		return fmt.Errorf("no %s declarations under %s", decl.Directive, filepath.Join(root, "internal"))
	}
	findings, err := migcheck.Check(dir, set)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		return fmt.Errorf("%d migration problem(s)", len(findings))
	}
	return nil
}

func printGraph(root, readme string) error {
	g, err := graph.Load(root)
	if err != nil {
		return err
	}
	diagram := g.Mermaid()
	if readme == "" {
		fmt.Print(diagram)
		return nil
	}
	data, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	out, err := graph.Splice(string(data), diagram)
	if err != nil {
		return err
	}
	return os.WriteFile(readme, []byte(out), 0o644)
}

func printReport(root string) error {
	allowed, err := graph.Allowances(root, rules.AllowDirective)
	if err != nil {
		return err
	}
	for _, a := range allowed {
		fmt.Println(a)
	}
	fmt.Printf("boundarylint: %d dynamic SQL statement(s) allowed by %s\n", len(allowed), rules.AllowDirective)
	return nil
}

// version answers go vet's -V=full, whose answer is part of the cache key
// of every vet result. Besides the executable it hashes the domain
// declarations: they live in each domain's root package, which many of the
// domain's packages do not import, so a changed deps= line must invalidate
// the cached results of every package.
func version() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "boundarylint:", err)
		return 1
	}
	f, err := os.Open(exe)
	if err != nil {
		fmt.Fprintln(os.Stderr, "boundarylint:", err)
		return 1
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		fmt.Fprintln(os.Stderr, "boundarylint:", err)
		return 1
	}
	if root := moduleRoot(); root != "" {
		io.WriteString(h, declarations(root))
	}
	fmt.Printf("%s version devel comments-go-here buildID=%02x\n", exe, h.Sum(nil))
	return 0
}

// declarations renders what the rules read from the domain declarations
// of the repository at root.
func declarations(root string) string {
	set, err := decl.Load(root)
	if err != nil {
		return "error " + err.Error()
	}
	var b strings.Builder
	for _, name := range set.Names() {
		d := set.Domains[name]
		fmt.Fprintf(&b, "%s %s %v\n", d.Name, d.Schema, d.Deps)
	}
	for _, p := range set.Problems {
		fmt.Fprintf(&b, "problem %s %s\n", p.Dir, p.Msg)
	}
	fmt.Fprintf(&b, "undeclared %v\n", set.Undeclared)
	return b.String()
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
