#!/usr/bin/env bash
# scripts/test.sh: the full test of esrule, as CI runs it (`make test`, .ci/run).
#
# Steps: gofmt, go vet (plain, and integration/ with its build tag), golangci-lint (.golangci.yml;
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
# The esrule binary and the integration test binary are built first, while Elasticsearch starts,
# and both runs use them. Each integration run starts as soon as its instances are up and runs
# beside the other steps (gofmt, vet, lint, unit tests, govulncheck, ...), which leave a core
# idle part of the time and run at a lower priority; the runs' output is printed when they end. The integration tests of a
# run go in parallel (ESRULE_TEST_PARALLEL at a time, default 4: more make Elasticsearch's
# master queue index creations and mapping updates past its 30 s timeouts on 2 cores). No test has a fixed time budget (a wait fails only after two
# minutes without progress), so the package's -timeout (ESRULE_TEST_TIMEOUT, default 45m) is a
# backstop only. Each run prints the output of its failed tests and its 15 slowest tests.
#
# The test instances run with the JIT's first tier only (ES_JAVA_OPTS, default
# -XX:TieredStopAtLevel=1): over a run of a few minutes the second tier's compilations cost
# each instance about 80 CPU seconds, more than its faster code saves (measured: 218 against
# 190 CPU seconds of Elasticsearch for the 8.19 run). Each integration run's summary line gives
# the CPU seconds of the test process (with the esrule processes it ran) and of its
# Elasticsearch, which load on the machine does not inflate as it does wall time.
#
# Every step runs even when an earlier one failed; the exit code is 1 if any failed. Timing
# per step is printed as it ends and in a summary. ESRULE_TEST_SEQUENTIAL=1 runs the two
# integration runs one after the other instead of at once, and after the other steps.
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

# record NAME STATUS SECONDS [NOTE] adds a line to the summary.
record() {
	summary+=("$(printf '%-28s %-6s %4ss%s' "$1" "$2" "$3" "${4:+  $4}")")
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
# They start one after the other, the 8.x run's first: it has more to do, and needs the secure
# instance too.
instances=(8)
case "${ESRULE_TEST_SECURE:-auto}" in
1) instances+=(8-secure) ;;
0) ;;
*) if grep -rqs ESRULE_TEST_ES_SECURE_URL integration/; then instances+=(8-secure); fi ;;
esac
instances+=(9)
# On 2 cores with the Go steps running beside them, starts at once would starve each other.
export ES_START_TIMEOUT="${ES_START_TIMEOUT:-300}"
# The first JIT tier only (see the header); scripts/elasticsearch.sh passes it to the node.
export ES_JAVA_OPTS="${ES_JAVA_OPTS--XX:TieredStopAtLevel=1}"

stop_instances() {
	local name
	if [ -n "${starter_pid:-}" ]; then kill "$starter_pid" 2>/dev/null || true; wait "$starter_pid" 2>/dev/null || true; fi
	if [ -n "${integration_pid:-}" ]; then kill "$integration_pid" 2>/dev/null || true; fi
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

# es_cpu NAME prints the CPU time of instance NAME so far, in clock ticks (0 if it is not running).
es_cpu() {
	local pid
	# shellcheck disable=SC2086 # es_args holds several words on purpose
	pid="$($es status ${es_args[$1]} 2>/dev/null | sed -n 's/.*(pid \([0-9]*\),.*/\1/p')"
	if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
		# utime and stime: fields 14 and 15, counted after the parenthesised command name.
		sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'
	else
		echo 0
	fi
}

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
	# The test binary runs in its package directory, as go test runs it. The subshell's `times`
	# gives the CPU of the process tree it waited for: the test binary and the esrule processes
	# the tests ran.
	local status=0 es_before
	es_before="$(es_cpu "$name")"
	(
		cd integration || exit 1
		code=0
		env "${vars[@]}" go tool test2json -t -p github.com/esrule/esrule/integration \
			"$work/integration.test" -test.v=test2json -test.count=1 -test.timeout "${ESRULE_TEST_TIMEOUT:-45m}" \
			-test.parallel "${ESRULE_TEST_PARALLEL:-4}" "${skip[@]}" || code=$?
		times >"$work/integration-$name.times"
		exit "$code"
	) >"$work/integration-$name.json" || status=$?
	# times prints the shell's user and system time, then its children's, as 1m2.345s.
	sed -n '2s/m/ /gp' "$work/integration-$name.times" | tr -d s |
		awk -v es="$(($(es_cpu "$name") - es_before))" -v hz="$(getconf CLK_TCK)" \
			'{printf "CPU: tests %.0f s, elasticsearch %.0f s\n", 60 * $1 + $2 + 60 * $3 + $4, es / hz}' >"$work/integration-$name.cpu"
	test_report <"$work/integration-$name.json"
	return "$status"
}

# integration_in_background runs the 8.x and 9.x runs at once in the background, each as soon
# as the instances it needs have started (8.x: also the secure one), each run's output and
# summary lines kept in files for integration_report.
integration_in_background() {
	local name
	for name in 8 9; do
		(
			begin=$SECONDS
			needs=("$name")
			if [ "$name" = 8 ] && [[ " ${instances[*]} " == *" 8-secure "* ]]; then needs+=(8-secure); fi
			for instance in "${needs[@]}"; do
				result=ok
				wait_instance "$instance" >"$work/start-$instance.out" 2>&1 || result=FAILED
				echo "start elasticsearch $instance|$result|$((SECONDS - begin))" >"$work/start-$instance.record"
			done
			begin=$SECONDS
			result=ok
			integration "$name" >"$work/integration-$name.out" 2>&1 || result=FAILED
			echo "integration $name.x|$result|$((SECONDS - begin))|$(cat "$work/integration-$name.cpu" 2>/dev/null)" >"$work/integration-$name.record"
		) &
	done
	wait
}

# integration_report waits for integration_in_background ($1: its pid) and prints and records
# what it did.
integration_report() {
	local name line
	echo "==> integration 8.x and 9.x (running since the build)"
	wait "$1" || true
	for name in "${instances[@]}"; do
		echo "--- start elasticsearch $name:"
		cat "$work/start-$name.out" 2>/dev/null || true
	done
	for name in 8 9; do
		echo "--- integration $name.x ($(env_of "$name" ELASTICSEARCH_URL)):"
		cat "$work/integration-$name.out" 2>/dev/null || true
		cat "$work/integration-$name.cpu" 2>/dev/null || true
	done
	for name in "${instances[@]/#/start-}" integration-8 integration-9; do
		if [ -s "$work/$name.record" ]; then
			IFS='|' read -r -a line <"$work/$name.record"
			record "${line[@]}"
		else
			case "$name" in
			start-*) record "start elasticsearch ${name#start-}" FAILED 0 "did not end" ;;
			*) record "integration ${name#integration-}.x" FAILED 0 "did not end" ;;
			esac
		fi
	done
	echo "<== integration: $((SECONDS - integration_begin)) s since the build"
}

start_instances &
starter_pid=$!
step "build integration tests" build_tests
sequential="${ESRULE_TEST_SEQUENTIAL:-0}"
if [ "$sequential" != 1 ]; then
	integration_begin=$SECONDS
	integration_in_background &
	integration_pid=$!
	# The other steps yield to the integration runs (nice 10, for this shell and what it starts
	# from now on): the integration runs take longest, and their lease tests hold 3 s leases
	# that a starved process can lose.
	renice -n 10 -p $$ >/dev/null 2>&1 || true
fi
step "gofmt" gofmt_check
step "go vet" go vet ./...
# Only integration/ has files behind the integration tag: every other package has the same
# files with or without it, and the plain go vet above has vetted them.
step "go vet -tags integration" go vet -tags integration ./integration/
step "golangci-lint" golangci_lint
step "unit tests" go test ./...
step "govulncheck (local database)" scripts/vulncheck.sh
step "docker-compose.yml" compose_check
step "kubernetes manifests" scripts/validate-manifests.sh
if [ "$sequential" = 1 ]; then
	for name in "${instances[@]}"; do
		step "start elasticsearch $name" wait_instance "$name"
	done
	for name in 8 9; do
		step "integration $name.x" integration "$name"
		cat "$work/integration-$name.cpu" 2>/dev/null || true
	done
else
	integration_report "$integration_pid"
fi

echo
echo "summary (total $((SECONDS - started_at)) s):"
printf '  %s\n' "${summary[@]}"
if [ "$failed" = 0 ]; then echo "all steps passed"; else echo "some steps FAILED"; fi
exit "$failed"
