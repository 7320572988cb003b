#!/usr/bin/env bash
# scripts/test.sh: the full test of esrule, as CI runs it (`make test`, .ci/run).
#
# Steps: gofmt, go vet (plain and with the integration tag), golangci-lint (.golangci.yml;
# the pinned version is installed with go install when missing), unit tests, govulncheck
# against a database built locally from golang.org/x/vulndb (scripts/vulncheck.sh), a check of
# docker-compose.yml, a schema validation of deploy/kubernetes (scripts/validate-manifests.sh:
# Kubernetes 1.29 and the newest its validator knows), then the integration tests against a
# real Elasticsearch of each pinned
# version (8.19.x and 9.x) started by scripts/elasticsearch.sh on ports of their own
# (ESRULE_TEST_PORT_8 / _9, default 9280 / 9290, so a developer's instances on 9250/9260 stay
# untouched), each with empty data. The instances start in the background while the first
# steps run, and are stopped on exit. A secure 8.19 instance (TLS + file-realm superuser, port
# ESRULE_TEST_PORT_8_SECURE, default 9282) starts only when a file in integration/ mentions
# ESRULE_TEST_ES_SECURE_URL (or ESRULE_TEST_SECURE=1; =0 never); the 8.19 run, and only that
# one, then gets ESRULE_TEST_ES_SECURE_URL, ESRULE_TEST_ES_CA (PEM path), ESRULE_TEST_ES_USER
# and ESRULE_TEST_ES_PASSWORD (a superuser); the 9.x run leaves out the security tests with
# `-skip`, so no test ever skips itself. The 9.x run also leaves out
# TestIntegrationSearchFakeAgreesWithElasticsearch: it checks the unit tests' in-memory search
# fake (not esrule) against Elasticsearch, and the 8.19 run checks it; on 2 cores it is a
# sixth of the machine's work in each run. Every test of esrule itself runs on both.
#
# The esrule binary and the integration test binary are built once, while Elasticsearch starts,
# and both runs use them. The integration tests run in parallel (ESRULE_TEST_PARALLEL at a time,
# default 4: more make Elasticsearch's master queue index creations and mapping updates past
# its 30 s timeouts on 2 cores). No test has a fixed time budget (a wait fails only after two
# minutes without progress), so the package's -timeout (ESRULE_TEST_TIMEOUT, default 45m) is a
# backstop only. Each run prints the output of its failed tests and its 15 slowest tests.
#
# Every step runs even when an earlier one failed; the exit code is 1 if any failed. Timing
# per step is printed as it ends and in a summary. ESRULE_TEST_SEQUENTIAL=1 runs the two
# integration runs one after the other instead of at once.
# shellcheck disable=SC2317 # functions run through step and trap
set -euo pipefail
cd "$(dirname "$0")/.."

es=scripts/elasticsearch.sh
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="$PATH:/usr/local/go/bin"; fi
work="$(mktemp -d /tmp/esrule-test.XXXXXX)"
port_8="${ESRULE_TEST_PORT_8:-9280}"
port_9="${ESRULE_TEST_PORT_9:-9290}"
port_8_secure="${ESRULE_TEST_PORT_8_SECURE:-9282}"
export ES_FRESH=1
started_at=$SECONDS
summary=()
failed=0

# record NAME STATUS SECONDS adds a line to the summary.
record() {
	summary+=("$(printf '%-28s %-6s %4ss' "$1" "$2" "$3")")
	if [ "$2" != ok ]; then failed=1; fi
}

# step NAME COMMAND... runs one step, prints its timing and records the result.
step() {
	local name="$1" begin=$SECONDS
	shift
	echo "==> $name"
	if "$@"; then
		echo "<== $name: ok ($((SECONDS - begin)) s)"
		record "$name" ok $((SECONDS - begin))
	else
		echo "<== $name: FAILED ($((SECONDS - begin)) s)"
		record "$name" FAILED $((SECONDS - begin))
	fi
}

# ---------------------------------------------------------------------------------------------
# Elasticsearch instances, started in the background

declare -A es_args=(
	[8]="--version 8 --port $port_8"
	[9]="--version 9 --port $port_9"
	[8-secure]="--version 8 --port $port_8_secure --secure"
)
instances=(8 9)
case "${ESRULE_TEST_SECURE:-auto}" in
1) instances+=(8-secure) ;;
0) ;;
*) if grep -rqs ESRULE_TEST_ES_SECURE_URL integration/; then instances+=(8-secure); fi ;;
esac
# On 2 cores with the Go steps running beside them, starts at once would starve each other.
export ES_START_TIMEOUT="${ES_START_TIMEOUT:-300}"

stop_instances() {
	local name
	if [ -n "${starter_pid:-}" ]; then kill "$starter_pid" 2>/dev/null || true; wait "$starter_pid" 2>/dev/null || true; fi
	for name in "${instances[@]}"; do
		[ -e "$work/es-$name.log" ] || continue
		# shellcheck disable=SC2086 # es_args holds several words on purpose
		$es stop ${es_args[$name]} 2>/dev/null || true
	done
	rm -rf "$work"
}
trap stop_instances EXIT
trap "exit 130" INT TERM

# start_instances starts them one after the other in the background; each leaves its `start`
# output in es-NAME.env, its messages in es-NAME.log and its exit status in es-NAME.status.
start_instances() {
	local name status
	for name in "${instances[@]}"; do
		status=0
		# shellcheck disable=SC2086
		$es start ${es_args[$name]} >"$work/es-$name.env" 2>"$work/es-$name.log" || status=$?
		echo "$status" >"$work/es-$name.status"
	done
}

# wait_instance NAME waits for its start and shows how it went.
wait_instance() {
	until [ -e "$work/es-$1.status" ]; do sleep 1; done
	cat "$work/es-$1.log"
	return "$(cat "$work/es-$1.status")"
}

# env_of NAME VARIABLE prints one value from the instance's `start` output.
env_of() { sed -n "s/^$2=//p" "$work/es-$1.env"; }

# ---------------------------------------------------------------------------------------------
# Steps

gofmt_check() {
	local unformatted files
	mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.go')
	unformatted="$(gofmt -l "${files[@]}")"
	[ -z "$unformatted" ] || { echo "not gofmt-ed:"; echo "$unformatted"; return 1; }
}

# golangci_lint runs the linters of .golangci.yml with the pinned golangci-lint, built
# from the Go module proxy into the Go bin directory when it is not there yet.
golangci_lint_version=v2.15.0
golangci_lint() {
	local bin
	bin="$(go env GOPATH)/bin/golangci-lint"
	if ! "$bin" --version 2>/dev/null | grep -q "version ${golangci_lint_version#v} "; then
		(cd / && go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_lint_version") || return 1
	fi
	"$bin" run ./...
}

compose_check() {
	local python=""
	for candidate in python3 /usr/bin/python3; do
		if "$candidate" -c 'import yaml' 2>/dev/null; then python="$candidate"; break; fi
	done
	if [ -z "$python" ]; then
		[ "$(id -u)" = 0 ] || { echo "python3 with PyYAML needed (apt-get install python3-yaml)"; return 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-yaml >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-yaml >/dev/null; }
		python=/usr/bin/python3
	fi
	if docker compose version >/dev/null 2>&1; then
		docker compose -f docker-compose.yml config -q || return 1
	elif command -v docker-compose >/dev/null 2>&1; then
		docker-compose -f docker-compose.yml config -q || return 1
	fi
	"$python" - docker-compose.yml <<'EOF'
# Structural check of the compose file, since no Docker engine is here to run `config`.
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
problems = []
for want in ("elasticsearch", "kibana", "setup", "kibana-objects", "loader", "esrule"):
    if want not in services:
        problems.append(f"service {want} missing")
for name, svc in services.items():
    if "image" not in svc and "build" not in svc:
        problems.append(f"{name}: neither image nor build")
    deps = svc.get("depends_on", {})
    for dep, cond in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
        if dep not in services:
            problems.append(f"{name}: depends on unknown service {dep}")
        c = cond.get("condition", "service_started")
        if c not in ("service_started", "service_healthy", "service_completed_successfully"):
            problems.append(f"{name}: unknown condition {c}")
        if c == "service_healthy" and "healthcheck" not in services.get(dep, {}):
            problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
# The image carries the version and commit; logs are JSON or colourless console logs; the
# alerts reach Kibana through the imported data view.
for name, svc in services.items():
    build = svc.get("build")
    if build is not None:
        args = build.get("args", {}) if isinstance(build, dict) else {}
        for arg in ("VERSION", "REVISION"):
            if arg not in args:
                problems.append(f"{name}: build passes no {arg}")
    env = svc.get("environment", {})
    if env.get("ESRULE_LOG_FORMAT", "json") != "json" and env.get("NO_COLOR") in (None, ""):
        problems.append(f"{name}: console logs without NO_COLOR")
if "--kibana-url" not in services.get("kibana-objects", {}).get("command", []):
    problems.append("kibana-objects: does not import the saved objects (--kibana-url)")
for p in problems:
    print("docker-compose.yml:", p)
sys.exit(1 if problems else 0)
EOF
}

# build_tests builds the esrule binary the integration tests run (ESRULE_TEST_BIN) and the
# integration test binary, once for both runs.
build_tests() {
	go build -o "$work/esrule" ./cmd/esrule &&
		go test -c -tags integration -o "$work/integration.test" ./integration/
}

# test_report reads `go test -json` events on stdin and prints what plain `go test` prints
# (the output of failed tests, the package result) and the 15 slowest tests.
test_report() {
	python3 -c '
import json, sys
out, slow, failed = {}, [], []
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        print(line, end="")
        continue
    test, action = e.get("Test"), e.get("Action")
    if action == "output":
        if test:
            out.setdefault(test, []).append(e["Output"])
        elif not e["Output"].startswith(("=== ", "PASS\n", "FAIL\n")):
            print(e["Output"], end="")
    elif test and action in ("pass", "fail"):
        if action == "fail":
            failed.append(test)
        if "/" not in test:
            slow.append((e.get("Elapsed", 0), test, action))
for test in failed:
    print("".join(out.get(test, [])), end="")
print("slowest tests:")
for elapsed, test, action in sorted(slow, reverse=True)[:15]:
    print("  %7.1fs  %s%s" % (elapsed, test, "" if action == "pass" else "  FAILED"))
'
}

integration() { # integration NAME: the integration tests against instance NAME
	local name="$1" url
	url="$(env_of "$name" ELASTICSEARCH_URL)"
	[ -n "$url" ] || { echo "elasticsearch $name did not start"; return 1; }
	[ -x "$work/integration.test" ] || { echo "the integration tests did not build"; return 1; }
	local vars=(ESRULE_TEST_ES_URL="$url" ESRULE_TEST_BIN="$work/esrule") skip=()
	# The security tests need the secured node, which only the 8.x run has; the search fake
	# (a unit-test tool) is checked against 8.x (see the header).
	if [ "$name" != 8 ]; then skip=(-test.skip 'TestIntegrationSecurity|TestIntegrationSearchFakeAgreesWithElasticsearch'); fi
	if [ "$name" = 8 ] && [ -s "$work/es-8-secure.env" ]; then
		vars+=(
			ESRULE_TEST_ES_SECURE_URL="$(env_of 8-secure ELASTICSEARCH_URL)"
			ESRULE_TEST_ES_CA="$(env_of 8-secure ELASTICSEARCH_CA_CERT)"
			ESRULE_TEST_ES_USER="$(env_of 8-secure ELASTICSEARCH_USERNAME)"
			ESRULE_TEST_ES_PASSWORD="$(env_of 8-secure ELASTICSEARCH_PASSWORD)"
		)
	fi
	# The test binary runs in its package directory, as go test runs it.
	local status=0
	(cd integration && env "${vars[@]}" go tool test2json -t -p github.com/esrule/esrule/integration \
		"$work/integration.test" -test.v=test2json -test.count=1 -test.timeout "${ESRULE_TEST_TIMEOUT:-45m}" \
		-test.parallel "${ESRULE_TEST_PARALLEL:-4}" "${skip[@]}") >"$work/integration-$name.json" || status=$?
	test_report <"$work/integration-$name.json"
	return "$status"
}

# integration_in_parallel runs the 8.x and 9.x runs at once, output kept apart, both recorded.
integration_in_parallel() {
	local begin=$SECONDS name status
	declare -A pids=()
	echo "==> integration 8.x and 9.x in parallel"
	for name in 8 9; do
		integration "$name" >"$work/integration-$name.out" 2>&1 &
		pids[$name]=$!
	done
	for name in 8 9; do
		status=0
		wait "${pids[$name]}" || status=$?
		echo "--- integration $name.x ($(env_of "$name" ELASTICSEARCH_URL)):"
		cat "$work/integration-$name.out"
		if [ "$status" = 0 ]; then
			record "integration $name.x" ok $((SECONDS - begin))
		else
			record "integration $name.x" FAILED $((SECONDS - begin))
		fi
	done
	echo "<== integration: $((SECONDS - begin)) s"
}

start_instances &
starter_pid=$!
step "gofmt" gofmt_check
step "go vet" go vet ./...
step "go vet -tags integration" go vet -tags integration ./...
step "golangci-lint" golangci_lint
step "unit tests" go test ./...
step "govulncheck (local database)" scripts/vulncheck.sh
step "docker-compose.yml" compose_check
step "kubernetes manifests" scripts/validate-manifests.sh
step "build integration tests" build_tests
for name in "${instances[@]}"; do
	step "start elasticsearch $name" wait_instance "$name"
done
if [ "${ESRULE_TEST_SEQUENTIAL:-0}" = 1 ]; then
	step "integration 8.x" integration 8
	step "integration 9.x" integration 9
else
	integration_in_parallel
fi

echo
echo "summary (total $((SECONDS - started_at)) s):"
printf '  %s\n' "${summary[@]}"
if [ "$failed" = 0 ]; then echo "all steps passed"; else echo "some steps FAILED"; fi
exit "$failed"
