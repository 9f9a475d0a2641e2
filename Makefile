# nextcloud-mcp-go — see README.md. Every target works on a fresh machine
# with Go 1.26; `bash .ci/run` installs the rest (litmus, rclone, PostgreSQL, Docker, Node 22).

GO        ?= go
BIN       ?= bin
PKGS      ?= ./...
GOFLAGS_STATIC = CGO_ENABLED=0
BENCHTIME ?= 2s
# The rclone make rclone drives; rclone >= 1.63 also exercises chunked upload.
RCLONE    ?= rclone
# The pinned linter, fetched through the Go module proxy on first use.
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

.PHONY: all build run test deps test-litmus test-rclone test-smoke unit lint bench bench-load conformance interop smoke litmus rclone clean

all: lint test

## build: static binaries of every command into ./bin
build:
	@mkdir -p $(BIN)
	$(GOFLAGS_STATIC) $(GO) build -trimpath -o $(BIN)/ ./fakes/cmd/... ./server/cmd/...

## run: the main job on embedded defaults — fake IdP + fake Nextcloud + MCP server in one process
run:
	$(GO) run ./server/cmd/nextcloud-mcp dev

## test: every test — unit, integration, fuzz seeds, litmus, rclone, conformance, interop, smoke.
## .ci/deps installs litmus, rclone and PostgreSQL and starts a Docker engine where it can (root + apt);
## a part whose tool is missing prints a NOTICE that it was NOT run.
test: deps lint unit test-litmus test-rclone conformance interop test-smoke
	@echo "test: all parts passed"

deps:
	@bash .ci/deps

test-litmus:
	@if command -v litmus >/dev/null 2>&1; then $(MAKE) --no-print-directory litmus; \
	else echo "test: NOTICE — litmus is not installed: the litmus WebDAV suite (make litmus) was NOT run"; fi

test-rclone:
	@if command -v $(RCLONE) >/dev/null 2>&1; then $(MAKE) --no-print-directory rclone; \
	else echo "test: NOTICE — rclone is not installed: the rclone client check of the fake Nextcloud (make rclone) was NOT run"; fi

test-smoke:
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory smoke; \
	else echo "test: NOTICE — no Docker engine reachable: the smoke suites (make smoke) were NOT run"; fi

## unit: go test of every package (race detector on)
unit:
	$(GO) test -race -count=1 $(PKGS)

## lint: go vet (also with the smoke and conformance_selftest tags), golangci-lint
## (errcheck, govet, ineffassign, staticcheck, unused, gofmt; .golangci.yml) and a gofmt check
lint:
	$(GO) vet $(PKGS)
	$(GO) vet -tags smoke ./smoke/...
	$(GO) vet -tags conformance_selftest ./server/ ./conformance/...
	$(GO) vet -tags interop ./interop/
	$(GOLANGCI_LINT) run $(PKGS)
	@if git grep -nE 'nextcloud-wire\.md|\.\./shared/|shared/(design|reference)/' -- ':!Makefile' 2>/dev/null; then \
	  echo "lint: the lines above cite documents outside the repository; cite docs/ or a public source"; exit 1; fi
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: benchmarks of every package
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

## bench-load: the load benchmark (internal/loadbench): each component in its own process
## (built binaries) and a bare go-sdk server as the ceiling; calls/s, p50/p99, server CPU per
## call and its ratio to the bare server per token mode at 1 and 8 sessions, the one-process
## dev stack's throughput ratios, upstream connections, RSS with idle sessions. A benchmark,
## not a test: it asserts nothing about time. BENCH_LOAD_FLAGS, e.g. -rounds 3 -o report.md.
BENCH_LOAD_FLAGS ?=
bench-load: build
	$(GOFLAGS_STATIC) $(GO) build -trimpath -o $(BIN)/bench-load ./internal/loadbench/cmd/bench-load
	$(BIN)/bench-load -bin $(BIN) -v $(BENCH_LOAD_FLAGS)

## litmus: the litmus WebDAV suite against the fake Nextcloud
litmus:
	GO="$(GO)" bash fakes/nextcloud/litmus.sh

## rclone: rclone (vendor nextcloud) against the fake Nextcloud — copy with a 30 MB file
## (chunked upload with rclone >= 1.63, e.g. RCLONE=/path/to/rclone), lsf/lsl, check by hash, sha1sum,
## moveto, deletefile, sync, purge
rclone:
	@start=$$(date +%s); rc=0; GO="$(GO)" RCLONE="$(RCLONE)" bash fakes/nextcloud/rclone.sh || rc=$$?; \
	echo "rclone: $$(( $$(date +%s) - start ))s wall"; exit $$rc

## conformance: grade the server and the fakes (see conformance/README.md):
## the catalogue against every in-process mode plus the official MCP suite
## (Node 22 from npm on first use), then the self-test of broken variants.
## Set CONFORMANCE_* to grade an external deployment instead.
CONFORMANCE_OUT ?= .
conformance:
	@start=$$(date +%s); status=0; \
	$(GO) run ./conformance/cmd/conformance -official -o $(CONFORMANCE_OUT) || status=1; \
	$(GO) test -count=1 -tags conformance_selftest ./conformance/... || status=1; \
	echo "conformance: $$(( $$(date +%s) - start ))s wall"; \
	exit $$status

## interop: the server against oidc-provider, a certified OpenID provider (interop/README.md):
## pass-through and exchange, code + PKCE through its own pages, progressive consent, the
## conformance suite graded against each deployment, a misconfigured IdP, and the README's
## MCP Inspector command. Node 22 and the pinned oidc-provider come from npm on first use
## (needs npm); prints its wall time.
interop:
	@start=$$(date +%s); status=0; \
	$(GO) test -tags interop -count=1 -timeout 5m -v ./interop/ || status=1; \
	echo "interop: $$(( $$(date +%s) - start ))s wall"; \
	exit $$status

## smoke: testcontainers suites — every binary in its own container, the three token modes,
## scope enforcement, a secret scan of every container log (needs a Docker engine; smoke/README.md).
## Prints the whole run's wall time and fails if any container of the run is left behind.
SMOKE_FLAGS ?=
smoke:
	@start=$$(date +%s.%N); rc=0; \
	if ! docker info >/dev/null 2>&1; then \
	  echo "smoke: no Docker engine reachable ('docker info' failed). The smoke suites run every binary in its own container:" >&2; \
	  echo "smoke: start a Docker engine (or point DOCKER_HOST at one); on a fresh CI machine 'bash .ci/run' installs and starts dockerd." >&2; \
	  exit 1; \
	fi; \
	$(MAKE) --no-print-directory build || exit 1; \
	run_id=smoke-$$(date +%s)-$$$$; \
	TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 \
	SMOKE_RUN_ID=$$run_id SMOKE_BIN="$(abspath $(BIN))" \
	  $(GO) test -tags smoke -count=1 -timeout 10m -v $(SMOKE_FLAGS) ./smoke/ || rc=$$?; \
	left=$$(docker ps -aq --filter label=nextcloud-mcp-go.smoke.run=$$run_id); \
	if [ -n "$$left" ]; then \
	  echo "smoke: containers of this run left behind (removing them):" >&2; \
	  docker ps -a --filter label=nextcloud-mcp-go.smoke.run=$$run_id >&2; \
	  docker rm -f $$left >/dev/null; rc=1; \
	else \
	  echo "smoke: docker ps -a: no container of this run ($$run_id) is left"; \
	fi; \
	echo "smoke: wall time $$(awk -v s=$$start -v e=$$(date +%s.%N) 'BEGIN { printf "%.1f", e - s }')s (binaries, images and suites)"; \
	exit $$rc

clean:
	rm -rf $(BIN)
