#!/usr/bin/env bash
# scripts/vulncheck.sh: govulncheck without vuln.go.dev. The Go vulnerability database is
# built locally from the golang.org/x/vulndb module (its data/osv holds every OSV entry) with
# that module's cmd/indexdb, fetched like any module through the Go module proxy, and
# govulncheck (golang.org/x/vuln) reads it with -db file://.
#
# usage: scripts/vulncheck.sh [packages]      (default ./...)
#
# Exit 1 when code calls a vulnerable function of a required module. Vulnerabilities of the Go
# standard library are fixed by a newer Go toolchain, not by esrule's code: they are printed as
# a warning, with the Go version that fixes them, and fail only with ESRULE_VULNCHECK_STDLIB=fail.
#
# Environment: VULNDB_VERSION (default the pinned one below, so that CI is reproducible; "latest"
# takes the newest database the proxy has),
# GOVULNCHECK_VERSION (default v1.9.0), VULNDB_DIR (where the database is built; default a
# cache directory reused while the vulndb version is the same).
set -euo pipefail
cd "$(dirname "$0")/.."

vuln_version="${GOVULNCHECK_VERSION:-v1.9.0}"
vulndb_version="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
if [ "$vulndb_version" = latest ]; then
	vulndb_version="$(go list -m -f '{{.Version}}' golang.org/x/vulndb@latest)"
fi
src="$(go mod download -json "golang.org/x/vulndb@$vulndb_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[ -d "$src/data/osv" ] || { echo "vulncheck: no data/osv in golang.org/x/vulndb@$vulndb_version" >&2; exit 1; }
db="${VULNDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esrule-vulndb/$vulndb_version}"
if [ ! -s "$db/index/db.json" ]; then
	rm -rf "$db"
	mkdir -p "$(dirname "$db")"
	go run "golang.org/x/vulndb/cmd/indexdb@$vulndb_version" -vulns "$src/data/osv" -out "$db"
fi
echo "vulncheck: database golang.org/x/vulndb@$vulndb_version ($db), govulncheck $vuln_version"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" go install "golang.org/x/vuln/cmd/govulncheck@$vuln_version" # go run would hide its exit code 3
out="$tmp/out"
status=0
"$tmp/govulncheck" -db "file://$db" "${@:-./...}" >"$out" 2>&1 || status=$?
cat "$out"
case "$status" in
0) exit 0 ;;
3) ;; # vulnerabilities found
*) echo "vulncheck: govulncheck failed (exit $status)" >&2; exit 1 ;;
esac
# "Found in: <package>@<version>": module versions start with v, the standard library's with go.
if grep -E '^ +Found in: ' "$out" | grep -qvE '@go[0-9]'; then
	echo "vulncheck: esrule calls vulnerable code of a required module: upgrade it (see above)" >&2
	exit 1
fi
fixed="$(grep -E '^ +Fixed in: ' "$out" | sed 's/.*@//' | sort -V | tail -1)"
echo "vulncheck: WARNING: the Go toolchain $(go env GOVERSION) has standard-library vulnerabilities that esrule reaches; build with $fixed or newer" >&2
[ "${ESRULE_VULNCHECK_STDLIB:-warn}" = fail ] && exit 1
exit 0
