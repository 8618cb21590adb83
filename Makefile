# Nova: `make dev` runs the server against a local Postgres it prepares;
# `make test` runs the whole test suite against that Postgres.
SHELL := /bin/bash
GO ?= go
BIN := bin

.PHONY: dev test lint build tools clean

build:
	$(GO) build -o $(BIN)/nova ./cmd/nova

dev: build
	@url=$$(scripts/devdb.sh) && \
	NOVA_ENV=$${NOVA_ENV:-dev} NOVA_DATABASE_URL="$$url" exec $(BIN)/nova serve

test:
	@url=$$(scripts/devdb.sh) && \
	NOVA_TEST_DATABASE_URL="$$url" $(GO) test -race -count=1 -timeout 20m ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
