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
	"flag"
	"fmt"
	"os"
	"path/filepath"

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
