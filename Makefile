# dplug — the two commands a fresh machine needs:
#   make demo   install what is needed (as root) and run the end-to-end demo
#   make test   run the whole test suite (what CI runs)
GO        ?= go
FUZZTIME  ?= 30s
TESTFLAGS ?= -count=1 -timeout 45m
# libdeflate (Debian's libdeflate-dev; make setup installs it) inflates dplug's
# own layers about three times as fast on install. Without it dplug builds and
# works the same, inflating in Go (scripts/gotags says which).
export GOFLAGS := $(strip $(GOFLAGS) $(shell scripts/gotags))

.PHONY: all build setup demo test unit fuzz bench docs lint mutate mutate-summary ci-recipe dist release-check

all: build

build:
	$(GO) build -trimpath -o bin/dplug ./cmd/dplug

setup:
	./scripts/setup.sh

demo: setup
	./scripts/demo.sh

# The whole suite, as CI runs it. Tests that need root or a daemon skip on a
# laptop but fail under CI=true.
test: build
	$(MAKE) lint
	$(MAKE) fuzz
	$(GO) test $(TESTFLAGS) -p 2 ./...
	# internal/blockgz once more without libdeflate: the pure Go decoder.
	$(GO) test $(TESTFLAGS) -tags= ./internal/blockgz/

# Bounded fuzzing of the parsers that take untrusted input (scripts/fuzz.sh: a
# run that Go 1.26's coordinator ends with "context deadline exceeded" and no
# failing input, golang/go#75804, is a warning, not a failure).
fuzz:
	./scripts/fuzz.sh validate FuzzBytes $(FUZZTIME)
	./scripts/fuzz.sh archive FuzzExtract $(FUZZTIME)
	./scripts/fuzz.sh store FuzzInventory $(FUZZTIME)
	./scripts/fuzz.sh entrypoint FuzzCheckTar $(FUZZTIME)
	./scripts/fuzz.sh internal/blockgz FuzzDecoders $(FUZZTIME)

# Static checks (about a minute with a warm build cache): go.mod tidy, go vet,
# staticcheck (pinned in tools/lint/go.mod, a module of its own so it stays out
# of dplug's go.mod), the cross-compiles, the dependency fences
# (internal/depfence) and the race detector on the quick unit tests.
RACEPKGS ?= ./validate/ ./entrypoint/ ./source/ ./dest/ ./probe/ ./internal/safepath/ ./internal/depfence/
lint:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) build -C tools/lint -o $(CURDIR)/bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	./bin/staticcheck ./...
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/dplug
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/dplug
	GOOS=linux GOARCH=arm64 $(GO) build -o /dev/null ./cmd/dplug
	$(GO) test -short -race -count=1 $(RACEPKGS)

# Regenerate every golden file with DPLUG_UPDATE=1 (tests fail when one is stale):
# docs/cli, docs/rules.md, examples/, the validate corpus goldens and the CLI
# scripts' `cmp stdout` goldens.
docs:
	DPLUG_UPDATE=1 $(GO) test -count=1 -p 1 -run 'TestDocsUpToDate|TestRulesDoc|TestCorpus|TestExamplesUpToDate|TestScripts' ./cmd/dplug/cli/ ./validate/ ./scaffold/

unit:
	$(GO) test -short -count=1 ./...

# Every benchmark script, results in bench/out/results.json (root, daemons).
# BENCH_SMOKE=1 make bench: quick mode, no targets (CI: the scripts keep working).
bench: build
	./bench/all.sh

# Mutation testing of validate, archive, store, pack, probe and run (slow: tens of
# minutes; as root with the daemons, CI=true). Scores: bench/out/mutation.json.
# PKGS="validate" or DIFF=main narrow it.
mutate:
	CI=true ./scripts/mutate.sh

# The mutation table from the runs recorded so far (bench/mutation, bench/out); runs nothing.
mutate-summary:
	SUMMARY=1 ./scripts/mutate.sh

# The README's CI recipe (scripts/ci-recipe.sh, what action.yml runs), as an
# unprivileged user on private dockerd 20.10 and 26 (as root; part of make test).
ci-recipe:
	CI=true $(GO) test -count=1 -run '^TestCIRecipe$$' ./engine/

# Release binaries (linux/darwin/windows × amd64/arm64, static on Linux) and
# dist/checksums.txt; .goreleaser.yaml builds the same matrix.
dist:
	./scripts/dist.sh

# .goreleaser.yaml checked and built as a snapshot into dist/. goreleaser
# v2.16.0 is the newest that builds with Go 1.26:
#   go install github.com/goreleaser/goreleaser/v2@v2.16.0
release-check:
	goreleaser check
	goreleaser release --snapshot --clean
