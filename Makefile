# server-audit build, test and lint entry points.
GO      ?= go
PKG     := github.com/securecodehq/server-audit
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := -s -w -X $(PKG)/pkg/version.Version=$(VERSION) -X $(PKG)/pkg/version.Commit=$(COMMIT) -X $(PKG)/pkg/version.Date=$(DATE)

.PHONY: build loadgen test lint bench fuzz generate clean man release-check release-snapshot

## build: the static agent and API binaries in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/server-audit ./agent/cmd/server-audit
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/server-audit-api ./server/cmd/server-audit-api

## loadgen: the API load generator (see docs/benchmarks.md, "server-audit-api ingest")
loadgen:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/server-audit-loadgen ./server/cmd/server-audit-loadgen

## test: unit and integration tests (integration tests skip when their tools are missing,
## and fail instead when SERVER_AUDIT_INTEGRATION=required)
test:
	$(GO) test -count=1 ./...

## lint: gofmt and go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## generate: catalog.json from catalog.yaml (the embedded form; a test checks it is current)
generate:
	$(GO) generate ./pkg/catalog

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: a short run (FUZZTIME each, default 20s) of every fuzz target
FUZZTIME ?= 20s
# minimising a new input defaults to 60 s, during which a short run makes no progress
FUZZMINIMIZETIME ?= 3s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || exit 1; \
	  done; \
	done

## man: man pages and shell completions of both binaries in build/docs/
man:
	sh scripts/release-docs.sh

## release-check: validate .goreleaser.yaml and shellcheck install.sh (goreleaser v2, shellcheck)
release-check:
	goreleaser check
	shellcheck --shell=sh install.sh scripts/release-docs.sh packaging/scripts/*.sh

## release-snapshot: every release artifact in dist/, offline (see docs/deploy.md)
release-snapshot:
	goreleaser release --snapshot --clean --skip=publish,sign,sbom

clean:
	rm -rf bin dist build
