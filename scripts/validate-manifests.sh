#!/usr/bin/env bash
# scripts/validate-manifests.sh: validates every manifest of deploy/kubernetes offline.
#
# - Kubernetes resources: kubernetes-validate (PyPI, pinned below), which bundles the JSON schemas
#   of each Kubernetes version, in strict mode (unknown fields are errors), against Kubernetes 1.29
#   and the newest version it bundles. It is installed once into a virtualenv
#   (ESRULE_KV_VENV, default ~/.cache/esrule/kubernetes-validate-<version>); python3-venv comes
#   from apt-get when missing and the script runs as root.
# - Prometheus Operator resources (ServiceMonitor, PodMonitor), whose schemas it lacks:
#   deploy/kubernetes/check decodes them strictly into the operator's Go types (a module of its
#   own, pinned in its go.mod) and checks that their selectors and ports match the serve manifests.
# A document of any other kind without a schema fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."

kv_version=1.37.0
oldest=1.29.0
venv="${ESRULE_KV_VENV:-$HOME/.cache/esrule/kubernetes-validate-$kv_version}"

if ! "$venv/bin/kubernetes-validate" --version >/dev/null 2>&1; then
	if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
		[ "$(id -u)" = 0 ] || { echo "python3-venv needed (apt-get install python3-venv)"; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }
	fi
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$kv_version"
fi

schemas="$("$venv/bin/python" -c 'import kubernetes_validate, os; print(os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema"))')"
newest="$(find "$schemas" -maxdepth 1 -name 'v*-local' -printf '%f\n' | sed 's/^v//; s/-local$//' | sort -V | tail -n 1)"
manifests=(deploy/kubernetes/*.yaml)
status=0
for k in "$oldest" "$newest"; do
	out="$("$venv/bin/kubernetes-validate" --strict -k "$k" "${manifests[@]}" 2>&1)" || status=1
	echo "$out"
	# Only the Prometheus Operator kinds may lack a schema; deploy/kubernetes/check covers them.
	if echo "$out" | grep '^WARN' | grep -v -E "kind (ServiceMonitor|PodMonitor) with api version monitoring.coreos.com/v1" | grep -q .; then
		echo "a manifest has a kind no validator checks"
		status=1
	fi
done
(cd deploy/kubernetes/check && go run . ../*.yaml) || status=1
exit "$status"
