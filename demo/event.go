package demo

import (
	"strings"
	"time"
)

// actor is who acted: a user (00u…), a system principal (spr…, okta…) or an app.
type actor struct {
	id, typ, alternateID, displayName string
}

// target is one entry of Okta's target[].
type target struct {
	id, typ, alternateID, displayName string
}

// event is one Okta System Log event before rendering. Empty strings and nil
// pointers mean "absent" (the integration pipeline drops nulls).
type event struct {
	uuid                string
	published, ingested time.Time
	created             time.Time
	eventType           string
	result, reason      string
	severity            string

	actor *actor

	// client
	ip        string // "" = Okta sent the string "null" (no client.ip, no source.ip)
	agent     *userAgent
	net       *network
	clientDev string // overrides agent.device when set

	// authentication context
	sessionID      string
	authProvider   string
	credentialType string

	transactionID   string
	transactionType string // WEB or JOB
	apiTokenID      string

	// debug context
	requestURI, url   string
	dtHash, fingerprt string
	factor            string
	riskLevel         string
	riskReasons       []string
	behaviors         []string // names of POSITIVE behaviours

	// proxyAsJSONNull writes is_proxy as an explicit JSON null instead of
	// leaving it out (only when net.proxy is proxyNull).
	proxyAsJSONNull bool

	targets []target
}

// eventKind holds the fixed properties of an Okta event type.
type eventKind struct {
	display  string
	category []string
	typ      []string
	fbType   []string // Filebeat module and older integration builds
}

var eventKinds = map[string]eventKind{
	"user.session.start":                                 {"User login to Okta", []string{"authentication", "session"}, []string{"start", "info"}, []string{"start", "user"}},
	"user.session.end":                                   {"User logout from Okta", []string{"authentication", "session"}, []string{"end", "info"}, []string{"end", "user"}},
	"user.authentication.sso":                            {"User single sign on to app", []string{"authentication"}, []string{"info"}, []string{"user"}},
	"policy.evaluate_sign_on":                            {"Evaluation of sign-on policy", []string{"authentication"}, []string{"info"}, []string{"info"}},
	"user.authentication.verify":                         {"Verify user identity", nil, nil, nil},
	"user.authentication.auth_via_mfa":                   {"Authentication of user via MFA", nil, nil, nil},
	"user.mfa.factor.reset_all":                          {"Reset all factors for user", nil, nil, nil},
	"user.mfa.factor.activate":                           {"Activate factor or authenticator", nil, nil, nil},
	"user.account.reset_password":                        {"Fired when the user's Okta password is reset", nil, nil, nil},
	"user.account.privilege.grant":                       {"Grant user privilege", []string{"iam"}, []string{"user", "change"}, []string{"user", "change"}},
	"policy.rule.update":                                 {"Update policy rule", []string{"configuration"}, []string{"change"}, []string{"change"}},
	"system.idp.lifecycle.create":                        {"Create IdP", []string{"configuration"}, []string{"creation"}, []string{"creation"}},
	"app.user_management.push_profile":                   {"Push user profile to app", nil, nil, nil},
	"user.account.update_profile":                        {"Update user profile for Okta", []string{"iam"}, []string{"user", "change"}, []string{"user", "change"}},
	"group.user_membership.add":                          {"Add user to group membership", []string{"iam"}, []string{"group", "change"}, []string{"group", "change"}},
	"system.agent.ad.read_dirsync":                       {"Read directory changes from AD", nil, nil, nil},
	"user.authentication.auth_via_IDP":                   {"Authenticate user via IDP", []string{"authentication"}, []string{"info"}, []string{"info"}},
	"security.threat.detected":                           {"Request from suspicious actor", nil, nil, nil},
	"user.account.report_suspicious_activity_by_enduser": {"User report suspicious activity", nil, nil, nil},
}

// ecsOutcome maps Okta's outcome.result to event.outcome.
func ecsOutcome(result string) string {
	switch result {
	case "SUCCESS", "ALLOW":
		return "success"
	case "FAILURE", "DENY":
		return "failure"
	default:
		return "unknown"
	}
}

// renderOptions select the document shape.
type renderOptions struct {
	namespace string
	filebeat  bool // Filebeat okta module instead of the Agent integration
	lean      bool // leave out debug context, ip chain, GeoIP/AS copies, user_agent, related
}

// render writes e as the indexed document of the Agent integration or of the
// Filebeat okta module.
func (e *event) render(w *jsonWriter, o renderOptions) {
	namespace, filebeat := o.namespace, o.filebeat
	kind := eventKinds[e.eventType]
	w.open("")
	w.timeMillis("@timestamp", e.published)
	if filebeat {
		w.open("agent")
		w.str("type", "filebeat")
		w.str("version", "8.19.0")
		w.str("name", "okta-collector-01")
		w.close()
		w.open("fileset")
		w.str("name", "system")
		w.close()
		w.open("service")
		w.str("type", "okta")
		w.close()
	} else {
		w.open("data_stream")
		w.str("type", "logs")
		w.str("dataset", "okta.system")
		w.str("namespace", namespace)
		w.close()
	}
	w.open("ecs")
	w.str("version", "8.11.0")
	w.close()
	w.open("input")
	w.str("type", "httpjson")
	w.close()
	if filebeat {
		w.strs("tags", "forwarded")
	} else {
		w.strs("tags", "forwarded", "okta-system")
	}

	w.open("event")
	w.str("action", e.eventType)
	if filebeat {
		w.strs("category", kind.category...)
		w.strs("type", kind.fbType...)
		w.str("module", "okta")
	} else {
		w.strs("category", kind.category...)
		w.strs("type", kind.typ...)
		// constant_keyword in the integration's template; written here so
		// that plain keyword mappings (the demo template) match it too.
		w.str("module", "okta")
		w.str("agent_id_status", "verified")
	}
	w.str("kind", "event")
	w.str("outcome", ecsOutcome(e.result))
	w.str("dataset", "okta.system")
	w.str("id", e.uuid)
	w.timeMillis("created", e.created)
	if filebeat {
		w.timeMillis("ingested", e.ingested)
	} else {
		w.timeSeconds("ingested", e.ingested)
	}
	w.close()

	e.renderOkta(w, kind, o)
	e.renderECS(w, o)
	w.close()
}

func (e *event) renderOkta(w *jsonWriter, kind eventKind, o renderOptions) {
	w.open("okta")
	w.str("uuid", e.uuid)
	w.str("event_type", e.eventType)
	w.str("display_message", kind.display)
	w.str("severity", e.severity)
	w.str("version", "0")
	if a := e.actor; a != nil {
		w.open("actor")
		w.str("id", a.id)
		w.str("type", a.typ)
		w.str("alternate_id", a.alternateID)
		w.str("display_name", a.displayName)
		w.close()
	}
	if e.agent != nil || e.ip != "" || e.net != nil {
		w.open("client")
		w.str("ip", e.ip)
		if ua := e.agent; ua != nil {
			w.open("user_agent")
			w.str("raw_user_agent", ua.raw)
			w.str("os", ua.oktaOS)
			w.str("browser", ua.oktaBrowser)
			w.close()
			dev := ua.device
			if e.clientDev != "" {
				dev = e.clientDev
			}
			w.str("device", dev)
		}
		if e.net != nil {
			w.str("zone", e.net.zone)
		}
		w.close()
	}
	if e.sessionID != "" || e.authProvider != "" || e.credentialType != "" {
		w.open("authentication_context")
		w.str("authentication_provider", e.authProvider)
		w.integer("authentication_step", 0)
		w.str("credential_type", e.credentialType)
		w.str("external_session_id", e.sessionID)
		w.close()
	}
	e.renderSecurityContext(w)
	w.open("outcome")
	w.str("result", e.result)
	w.str("reason", e.reason)
	w.close()
	w.open("transaction")
	w.str("id", e.transactionID)
	w.str("type", e.transactionType)
	if e.apiTokenID != "" {
		w.open("detail")
		w.str("request_api_token_id", e.apiTokenID)
		w.close()
	}
	w.close()
	if !o.lean {
		e.renderDebug(w)
	}
	if e.ip != "" && e.net != nil && !o.lean {
		p := e.net.place
		w.open("request")
		w.openArray("ip_chain")
		w.open("")
		w.str("ip", e.ip)
		w.str("version", "V4")
		w.open("geographical_context")
		w.str("city", p.city)
		w.str("state", p.state)
		w.str("country", p.country)
		w.open("geolocation")
		w.float("lat", p.lat)
		w.float("lon", p.lon)
		w.close()
		w.close()
		w.close()
		w.closeArray()
		w.close()
	}
	if len(e.targets) > 0 {
		w.openArray("target")
		for _, t := range e.targets {
			w.open("")
			w.str("id", t.id)
			w.str("type", t.typ)
			w.str("alternate_id", t.alternateID)
			w.str("display_name", t.displayName)
			w.close()
		}
		w.closeArray()
	}
	w.close()
}

func (e *event) renderSecurityContext(w *jsonWriter) {
	n := e.net
	if n == nil {
		return // securityContext with all-null members: dropped entirely
	}
	w.open("security_context")
	w.open("as")
	w.integer("number", n.asn)
	w.open("organization")
	w.str("name", n.asOrg)
	w.close()
	w.close()
	w.str("isp", n.isp)
	w.str("domain", n.domain)
	switch {
	case n.proxy == proxyTrue:
		w.boolean("is_proxy", true)
	case n.proxy == proxyFalse:
		w.boolean("is_proxy", false)
	case e.proxyAsJSONNull:
		w.null("is_proxy")
	}
	w.close()
}

func (e *event) renderDebug(w *jsonWriter) {
	if e.requestURI == "" && e.transactionID == "" {
		return
	}
	w.open("debug_context")
	w.open("debug_data")
	w.str("request_id", e.transactionID)
	w.str("request_uri", e.requestURI)
	w.str("url", e.url)
	w.str("device_fingerprint", e.fingerprt)
	w.str("dt_hash", e.dtHash)
	w.str("factor", e.factor)
	if e.requestURI != "" {
		w.str("threat_suspected", "false")
	}
	w.str("risk_level", e.riskLevel)
	w.strs("risk_reasons", e.riskReasons...)
	w.strs("risk_behaviors", e.behaviors...)
	w.open("flattened")
	w.str("requestId", e.transactionID)
	w.str("requestUri", e.requestURI)
	w.str("url", e.url)
	w.str("deviceFingerprint", e.fingerprt)
	w.str("dtHash", e.dtHash)
	w.str("factor", e.factor)
	if e.requestURI != "" {
		w.str("threatSuspected", "false")
	}
	if e.riskLevel != "" {
		w.open("risk")
		w.str("level", e.riskLevel)
		w.str("reasons", strings.Join(e.riskReasons, ", "))
		w.close()
		w.open("behaviors")
		for _, b := range allBehaviors {
			v := "NEGATIVE"
			for _, p := range e.behaviors {
				if p == b {
					v = "POSITIVE"
				}
			}
			w.str(b, v)
		}
		w.close()
	}
	w.close()
	w.close()
	w.close()
}

var allBehaviors = []string{"New Geo-Location", "New Device", "New IP", "New State", "New Country", "Velocity", "New City"}

// renderECS writes the ECS copies the pipeline makes (client, source, user,
// related, user_agent, url).
func (e *event) renderECS(w *jsonWriter, o renderOptions) {
	a := e.actor
	userName := ""
	if a != nil && a.typ == "User" {
		userName = a.alternateID
	}
	if e.ip != "" || a != nil {
		w.open("client")
		w.str("ip", e.ip)
		if n := e.net; n != nil && e.ip != "" && !o.lean {
			w.str("domain", n.domain)
			w.open("as")
			w.open("organization")
			w.str("name", n.asOrg)
			w.close()
			w.close()
			w.open("geo")
			w.str("city_name", n.place.city)
			w.str("region_name", n.place.state)
			w.str("country_name", n.place.country)
			w.open("location")
			w.float("lat", n.place.lat)
			w.float("lon", n.place.lon)
			w.close()
			w.close()
		}
		if a != nil {
			w.open("user")
			w.str("id", a.id)
			w.str("name", userName)
			w.str("full_name", a.displayName)
			w.close()
		}
		w.close()
	}
	if e.ip != "" {
		w.open("source")
		w.str("ip", e.ip)
		if n := e.net; n != nil && !o.lean {
			w.str("domain", n.domain)
			// GeoIP's answer: independent of Okta's, slightly off.
			w.open("geo")
			w.str("city_name", n.place.city)
			w.str("country_iso_code", n.place.countryISO)
			w.str("country_name", n.place.country)
			w.str("continent_name", n.place.continent)
			w.open("location")
			w.float("lat", n.place.lat+0.0123)
			w.float("lon", n.place.lon-0.0087)
			w.close()
			w.close()
			w.open("as")
			w.integer("number", n.asn)
			w.open("organization")
			w.str("name", n.geoipOrganization)
			w.close()
			w.close()
		}
		if a != nil {
			w.open("user")
			w.str("id", a.id)
			w.str("name", userName)
			w.str("full_name", a.displayName)
			w.close()
		}
		w.close()
	}
	if a != nil {
		w.open("user")
		w.str("name", userName)
		w.str("full_name", a.displayName)
		if a.typ == "User" {
			w.str("email", a.alternateID)
		}
		for _, t := range e.targets {
			if t.typ == "User" {
				w.open("target")
				w.str("id", t.id)
				w.str("full_name", t.displayName)
				w.str("email", t.alternateID)
				w.close()
				break
			}
		}
		w.close()
	}
	if o.lean {
		return
	}
	w.open("related")
	if e.ip != "" {
		w.strs("ip", e.ip)
	}
	if a != nil {
		if userName != "" {
			w.strs("user", a.displayName, userName)
		} else {
			w.strs("user", a.displayName)
		}
	}
	w.close()
	if ua := e.agent; ua != nil {
		w.open("user_agent")
		w.str("original", ua.raw)
		w.str("name", ua.name)
		w.str("version", ua.version)
		w.open("os")
		w.str("name", ua.osName)
		w.str("version", ua.osVersion)
		if ua.osVersion != "" {
			w.str("full", ua.osName+" "+ua.osVersion)
		}
		w.close()
		w.open("device")
		w.str("name", ua.deviceName)
		w.close()
		w.close()
	}
	if o.filebeat && e.url != "" {
		path, query, _ := strings.Cut(e.url, "?")
		w.open("url")
		w.str("original", e.url)
		w.str("path", path)
		w.str("query", query)
		w.close()
	}
}
