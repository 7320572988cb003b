#!/usr/bin/env bash
# scripts/demo.sh (`make demo`): esrule's local trial without Docker. It starts a real
# Elasticsearch with scripts/elasticsearch.sh (unless ELASTICSEARCH_URL is set), builds
# bin/esrule, loads 8 days of demo Okta data with attack scenarios, backfills the built-in rule
# over the last day, prints the alerts, and checks them against the alerts the scenarios expect.
#
# Environment: ELASTICSEARCH_URL (and the other ELASTICSEARCH_* settings esrule reads) to use
# a running Elasticsearch meant for trials (the demo writes Okta documents to
# logs-okta.system-default, alerts to esrule-alerts-default, and uses no replicas);
# ES_VERSION, ES_PORT for the one started here (see that script).
# DEMO_END: end of the data, RFC 3339. Default: the end used by the previous demo against the
# same URL (kept in bin/demo-end), else now rounded down to 5 minutes. Running the demo again
# therefore adds nothing: documents, alerts and the backfill checkpoint keep their ids.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SEED=1 DAYS=8
step() { printf '\n==> %s\n' "$*"; }
field() { sed -nE "s/.*\"$1\":\"?([^\",}]*).*/\1/p" <<<"$2"; } # field NAME JSON: a scalar, roughly
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

step "Building bin/esrule (in the background)"
go build -o bin/esrule ./cmd/esrule &
build=$!

if [ -z "${ELASTICSEARCH_URL:-}" ]; then
	step "Starting Elasticsearch (scripts/elasticsearch.sh start)"
	set -a
	eval "$(scripts/elasticsearch.sh start)"
	set +a
fi
url="${ELASTICSEARCH_URL%%,*}"
wait "$build"
esrule() { bin/esrule --log-format console "$@"; }

end="${DEMO_END:-}"
if [ -z "$end" ] && [ -f bin/demo-end ]; then
	end="$(sed -n "s|^$url ||p" bin/demo-end)"
	[ -z "$end" ] || echo "Reusing the previous demo's end $end (new data: rm bin/demo-end, or set DEMO_END)"
fi
if [ -z "$end" ]; then end="$(utc $(($(date -u +%s) / 300 * 300)))"; fi
from="$(utc $(($(date -u -d "$end" +%s) - 86400)))"
echo "$url $end" >bin/demo-end
data=(--seed "$SEED" --days "$DAYS" --end "$end")

step "Installing index templates, the alerts alias and the state index (esrule setup)"
esrule setup --demo-templates --replicas 0

step "Loading $DAYS days of Okta System Log data ending at $end (esrule demo load)"
esrule demo load "${data[@]}"

step "Running the built-in rule on every 5-minute slot in ($from, $end] (esrule backfill)"
summary="$(esrule backfill --from "$from" --to "$end" --progress log)"
echo "backfill: $(field slots "$summary") slots, $(field alerts_created "$summary") alerts created," \
	"$(field alerts_duplicate "$summary") already there, $(field took_ms "$summary") ms"

step "Alerts (bin/esrule alerts)"
esrule alerts --limit 50

step "What the attack scenarios expect (bin/esrule demo scenarios; alerts whose slot is in the last day must be above)"
alerts="$(esrule alerts --format json --limit 10000)"
scenarios="$(bin/esrule demo scenarios "${data[@]}")"
missing=0
while IFS= read -r scenario; do
	name="$(field name "$scenario")"
	expected="$(grep -oE '\{"actor_id":[^}]*\}' <<<"$scenario" || true)"
	[ -n "$expected" ] || { printf '  %-28s no alert\n' "$name"; continue; }
	while IFS= read -r alert; do
		slot="$(field slot "$alert")"
		found="$(grep -F "\"new_terms\":[\"$(field actor_id "$alert")\"]" <<<"$alerts" | head -1 || true)"
		if [[ ! "$slot" > "$from" ]]; then
			status="(before the backfilled day)"
		elif [ -n "$found" ]; then
			status="found: alert $(field id "$found" | cut -c1-12) for $(field actor "$found")"
		else
			status="MISSING"
			missing=$((missing + 1))
		fi
		printf '  %-28s alert at slot %s  %s\n' "$name" "$slot" "$status"
	done <<<"$expected"
done <<<"$scenarios"
echo "Other alerts are background users' first VPN logins (all of them: bin/esrule demo expected ${data[*]})."

step "Look at them yourself"
echo "  curl -s '$url/esrule-alerts-default/_search?pretty&size=5'"
echo "  Kibana connected to $url: Stack Management > Data views > create 'esrule-alerts-*'"
echo "  (time field @timestamp), then Discover. Source events: 'logs-okta*'."
echo "  bin/esrule alerts --help; bin/esrule run --help (one slot); bin/esrule serve (every 5 minutes)"
echo "Demo done in ${SECONDS}s."
if [ "$missing" -gt 0 ]; then
	echo "demo.sh: $missing expected alerts are missing" >&2
	exit 1
fi
