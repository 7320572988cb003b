# esrule: common tasks. `make test` is what CI runs (.ci/run).

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
FUZZTIME ?= 30s

.PHONY: all test build image compose-up demo es-start es-stop es-status fuzz clean

all: build

## test: gofmt, vet, unit tests and integration tests against Elasticsearch 8.19.x and 9.x
test:
	scripts/test.sh

## build: a static binary in bin/esrule
build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/esrule ./cmd/esrule

## image: the container image esrule:$(VERSION), with the version and commit (needs Docker)
image:
	docker build -t esrule:$(VERSION) --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) .

## compose-up: docker compose up with the version and commit passed to the image build
compose-up:
	ESRULE_VERSION=$(VERSION) ESRULE_REVISION=$(REVISION) docker compose up --build -d --wait

## demo: a local trial without Docker (Elasticsearch from Maven Central and demo data)
demo:
	@if [ -x scripts/demo.sh ]; then scripts/demo.sh; else echo "demo not yet available"; fi

## es-start / es-stop / es-status: a development Elasticsearch (ES_VERSION=9 for 9.x, ES_SECURE=1 for TLS and auth)
es-start:
	scripts/elasticsearch.sh start

es-stop:
	scripts/elasticsearch.sh stop

es-status:
	scripts/elasticsearch.sh status

## fuzz: every Fuzz target for FUZZTIME each (default 30s)
fuzz:
	@set -e; for pkg in $$(go list ./...); do \
		for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target"; \
			go test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME); \
		done; \
	done

clean:
	rm -rf bin
