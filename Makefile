# Nova: `make dev` runs the server against a local Postgres it prepares;
# `make test` runs the whole test suite against that Postgres.
SHELL := /bin/bash
GO ?= go
BIN := bin

.PHONY: dev test lint build clean
.PHONY: boundarylint graph

build:
	$(GO) build -o $(BIN)/nova ./cmd/nova

dev: build
	@url=$$(scripts/devdb.sh) && \
	NOVA_ENV=$${NOVA_ENV:-dev} NOVA_DATABASE_URL="$$url" exec $(BIN)/nova serve

test:
	@# The suite creates databases and roles on its server: NOVA_TEST_DATABASE_URL
	@# may name another one, NOVA_DATABASE_URL (the one `nova` uses) never does.
	@url=$${NOVA_TEST_DATABASE_URL:-$$(NOVA_DATABASE_URL= scripts/devdb.sh)} && \
	NOVA_TEST_DATABASE_URL="$$url" $(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v /tools/boundarylint)
	@# The linter's tests run without -race: a race build would compile the
	@# Postgres parser (cgo) a second time; this one shares bin/boundarylint's build.
	$(GO) test -count=1 -timeout 10m ./tools/boundarylint/...

lint: boundarylint
	@# Tracked and new (untracked, not ignored) files alike. A git that fails
	@# (no repository, or one owned by another user) fails the check instead
	@# of passing it with no file checked.
	@set -o pipefail; unformatted=$$(git ls-files --cached --others --exclude-standard -z '*.go' | xargs -0 -r gofmt -l) || \
	{ echo "lint: cannot list the Go files to check with gofmt"; exit 1; }; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -vettool=$(CURDIR)/$(BIN)/boundarylint ./...
	$(BIN)/boundarylint -migrations migrations/
	$(BIN)/boundarylint -report

# The boundary linter (a go vet tool); its cgo Postgres parser is compiled
# once and kept by the Go build cache.
boundarylint:
	$(GO) build -o $(BIN)/boundarylint ./tools/boundarylint

# graph rewrites the README's domain and event diagram from the code.
graph: boundarylint
	$(BIN)/boundarylint -graph -readme README.md

clean:
	rm -rf $(BIN)
