package demo

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// place is a location as Okta's geographicalContext and GeoIP describe it.
type place struct {
	city, state, country, countryISO, continent string
	lat, lon                                    float64
}

// region is a group of users sharing a time zone (fixed offsets: the demo
// ignores daylight saving time, so it needs no tz database).
type region struct {
	name   string
	zone   *time.Location
	weight int
	cities []place
}

var regions = []region{
	{"us-west", time.FixedZone("UTC-8", -8*3600), 22, []place{
		{"San Francisco", "California", "United States", "US", "North America", 37.7749, -122.4194},
		{"Seattle", "Washington", "United States", "US", "North America", 47.6062, -122.3321},
		{"Portland", "Oregon", "United States", "US", "North America", 45.5152, -122.6784},
	}},
	{"us-central", time.FixedZone("UTC-6", -6*3600), 14, []place{
		{"Chicago", "Illinois", "United States", "US", "North America", 41.8781, -87.6298},
		{"Austin", "Texas", "United States", "US", "North America", 30.2672, -97.7431},
	}},
	{"us-east", time.FixedZone("UTC-5", -5*3600), 24, []place{
		{"New York", "New York", "United States", "US", "North America", 40.7128, -74.0060},
		{"Boston", "Massachusetts", "United States", "US", "North America", 42.3601, -71.0589},
		{"Atlanta", "Georgia", "United States", "US", "North America", 33.7490, -84.3880},
	}},
	{"uk", time.FixedZone("UTC", 0), 10, []place{
		{"London", "England", "United Kingdom", "GB", "Europe", 51.5074, -0.1278},
		{"Manchester", "England", "United Kingdom", "GB", "Europe", 53.4808, -2.2426},
	}},
	{"de", time.FixedZone("UTC+1", 3600), 10, []place{
		{"Berlin", "Land Berlin", "Germany", "DE", "Europe", 52.5200, 13.4050},
		{"Munich", "Bavaria", "Germany", "DE", "Europe", 48.1351, 11.5820},
	}},
	{"in", time.FixedZone("UTC+5:30", 5*3600+1800), 10, []place{
		{"Bengaluru", "Karnataka", "India", "IN", "Asia", 12.9716, 77.5946},
		{"Pune", "Maharashtra", "India", "IN", "Asia", 18.5204, 73.8567},
	}},
	{"jp", time.FixedZone("UTC+9", 9*3600), 5, []place{
		{"Tokyo", "Tokyo", "Japan", "JP", "Asia", 35.6762, 139.6503},
	}},
	{"au", time.FixedZone("UTC+10", 10*3600), 5, []place{
		{"Sydney", "New South Wales", "Australia", "AU", "Oceania", -33.8688, 151.2093},
	}},
}

func pickRegion(r *rand.Rand) *region {
	total := 0
	for i := range regions {
		total += regions[i].weight
	}
	n := r.IntN(total)
	for i := range regions {
		if n < regions[i].weight {
			return &regions[i]
		}
		n -= regions[i].weight
	}
	return &regions[0]
}

// proxyFlag is Okta's securityContext.isProxy: true, false or null.
type proxyFlag uint8

const (
	proxyNull proxyFlag = iota
	proxyFalse
	proxyTrue
)

// network is where a request comes from: an ISP line, an office, a carrier,
// a commercial VPN or an anonymizer. IPs come from reserved ranges (RFC 2544
// 198.18.0.0/15 for ISPs, RFC 5737 documentation ranges for offices and
// proxies), ASNs from the documentation and private ranges (RFC 5398, 6996).
type network struct {
	asn               int
	asOrg, isp        string
	domain            string
	zone              string // Okta network zone name; "null" when none matched
	proxy             proxyFlag
	ipBase            [4]byte
	ipSpan            int // number of addresses from ipBase
	place             place
	geoipOrganization string // GeoIP's spelling of the AS organisation
}

func (n *network) ip(r *rand.Rand) string {
	off := r.IntN(n.ipSpan)
	b := n.ipBase
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(off)
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// homeNetwork builds user i's home ISP line in p. isProxy is false or null,
// fixed per line (Okta reports it per source, and most events carry null).
func homeNetwork(r *rand.Rand, p place, i int) *network {
	isps := []struct{ org, isp, domain string }{
		{"example cable broadband", "example cable", "cable.example"},
		{"example fiber networks", "example fiber", "fiber.example"},
		{"example telecom", "example telecom", "telecom.example"},
		{"example dsl", "example dsl", "dsl.example"},
	}
	k := r.IntN(len(isps))
	flag := proxyNull
	if chance(r, 0.3) {
		flag = proxyFalse
	}
	// 198.18.0.0-198.19.127.255 (RFC 2544): each user gets a /28 slice; the
	// carriers use 198.19.128.0/17.
	base := uint32(198)<<24 | uint32(18)<<16 + uint32(i%6144)*16
	return &network{
		asn: 64512 + k*7 + len(p.city)%7, asOrg: isps[k].org, isp: isps[k].isp, domain: isps[k].domain,
		zone: "null", proxy: flag,
		ipBase: [4]byte{byte(base >> 24), byte(base >> 16), byte(base >> 8), byte(base)}, ipSpan: 16,
		place: p, geoipOrganization: titleOrg(isps[k].org),
	}
}

// officeNetwork is the corporate egress of a region's office.
func officeNetwork(reg *region) *network {
	idx := 0
	for i := range regions {
		if &regions[i] == reg {
			idx = i
		}
	}
	return &network{
		asn: 64496 + idx, asOrg: "example business fiber", isp: "example business fiber", domain: "corp.example",
		zone: "Corporate Offices", proxy: proxyFalse,
		// Okta reports false for the offices' well-known egress IPs.
		ipBase: [4]byte{198, 51, 100, byte(idx * 16)}, ipSpan: 16,
		place: reg.cities[0], geoipOrganization: "Example Business Fiber",
	}
}

// carrierNetwork is a mobile carrier; Okta leaves isProxy null for them.
func carrierNetwork(p place) *network {
	return &network{
		asn: 64600, asOrg: "example mobile", isp: "example mobile", domain: "mobile.example",
		zone: "null", proxy: proxyNull,
		ipBase: [4]byte{198, 19, 128, 0}, ipSpan: 32768,
		place: p, geoipOrganization: "Example Mobile",
	}
}

// vpnProviders are commercial VPN exits (isProxy true) that privacy-minded
// employees use every day.
var vpnProviders = []network{
	{asn: 64501, asOrg: "example vpn hosting ltd", isp: "example vpn hosting ltd", domain: "vpn-exit.example", zone: "null", proxy: proxyTrue,
		ipBase: [4]byte{203, 0, 113, 0}, ipSpan: 64, geoipOrganization: "Example VPN Hosting Ltd",
		place: place{"Zurich", "Zurich", "Switzerland", "CH", "Europe", 47.3769, 8.5417}},
	{asn: 64502, asOrg: "example private network", isp: "example private network", domain: "pn.example", zone: "null", proxy: proxyTrue,
		ipBase: [4]byte{203, 0, 113, 64}, ipSpan: 64, geoipOrganization: "Example Private Network",
		place: place{"Frankfurt am Main", "Hesse", "Germany", "DE", "Europe", 50.1109, 8.6821}},
	{asn: 64503, asOrg: "example secure tunnel inc", isp: "example secure tunnel inc", domain: "tunnel.example", zone: "null", proxy: proxyTrue,
		ipBase: [4]byte{203, 0, 113, 128}, ipSpan: 64, geoipOrganization: "Example Secure Tunnel Inc",
		place: place{"Ashburn", "Virginia", "United States", "US", "North America", 39.0438, -77.4874}},
}

// anonymizers are the attacker's infrastructure: residential proxies and Tor
// exits, never seen in the background traffic.
var anonymizers = []network{
	{asn: 65536, asOrg: "example anonymizer hosting", isp: "example anonymizer hosting", domain: "anon.example", zone: "null", proxy: proxyTrue,
		ipBase: [4]byte{192, 0, 2, 0}, ipSpan: 128, geoipOrganization: "Example Anonymizer Hosting B.V.",
		place: place{"Amsterdam", "North Holland", "Netherlands", "NL", "Europe", 52.3676, 4.9041}},
	{asn: 65537, asOrg: "example tor exit relay", isp: "example tor exit relay", domain: "tor-exit.example", zone: "null", proxy: proxyTrue,
		ipBase: [4]byte{192, 0, 2, 128}, ipSpan: 128, geoipOrganization: "Example Tor Exit Relay",
		place: place{"Bucharest", "Bucuresti", "Romania", "RO", "Europe", 44.4268, 26.1025}},
}

func titleOrg(s string) string {
	b := []byte(s)
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == ' '
	}
	return string(b)
}

// userAgent is a browser with both Okta's and the ECS user_agent parse.
type userAgent struct {
	raw, oktaOS, oktaBrowser, device string
	name, version, osName, osVersion string
	deviceName                       string
}

var desktopAgents = []userAgent{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mac OS X", "CHROME", "Computer", "Chrome", "124.0.0.0", "Mac OS X", "10.15.7", "Mac"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
		"Windows 10", "EDGE_CHROMIUM", "Computer", "Edge", "124.0.2478.80", "Windows", "10", "Other"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Windows 10", "FIREFOX", "Computer", "Firefox", "125.0", "Windows", "10", "Other"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
		"Mac OS X", "SAFARI", "Computer", "Safari", "17.4.1", "Mac OS X", "14.4.1", "Mac"},
}

var mobileAgents = []userAgent{
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
		"iOS", "SAFARI", "Mobile", "Mobile Safari", "17.4.1", "iOS", "17.4.1", "iPhone"},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
		"Android", "CHROME", "Mobile", "Chrome Mobile", "124.0.6367.82", "Android", "14", "Pixel 8"},
}

// attackerAgent is a browser no employee uses.
var attackerAgent = userAgent{"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
	"Linux", "FIREFOX", "Computer", "Firefox", "115.0", "Linux", "", "Other"}

// app is an Okta application instance.
type app struct {
	id, name, label, signOn string
}

var appCatalog = []struct{ name, label, signOn string }{
	{"salesforce", "Salesforce.com", "SAML_2_0"},
	{"slack", "Slack", "SAML_2_0"},
	{"google", "Google Workspace", "SAML_2_0"},
	{"github_enterprise", "GitHub Enterprise", "SAML_2_0"},
	{"workday", "Workday", "SAML_2_0"},
	{"zoomus", "Zoom", "SAML_2_0"},
	{"atlassian", "Atlassian Cloud", "OPENID_CONNECT"},
	{"amazon_aws_sso", "AWS IAM Identity Center", "SAML_2_0"},
	{"boxnet", "Box", "SAML_2_0"},
}

// adminConsole is the app attackers go for after taking over an admin.
const adminConsoleLabel = "Okta Admin Console"

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Priya", "Arjun", "Ananya", "Rahul", "Yuki", "Haruto", "Sakura", "Kenji", "Lukas", "Lena",
	"Felix", "Hannah", "Oliver", "Amelia", "Harry", "Isla", "Noah", "Chloe", "Liam", "Grace",
	"Mateo", "Sofia", "Diego", "Valentina", "Wei", "Mei", "Omar", "Layla", "Dana", "Alex",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
	"Patel", "Sharma", "Iyer", "Tanaka", "Sato", "Suzuki", "Muller", "Schmidt", "Fischer", "Weber",
	"Evans", "Walker", "Wright", "Hughes", "Hale", "Nguyen", "Chen", "Wang", "Kim", "Park",
	"Rossi", "Costa", "Silva", "Novak", "Kowalski", "Ahmed", "Khan", "Cohen", "Murphy", "Kelly",
}

// personName returns a unique name for user i: every (first, last) pair once,
// then with a number.
func personName(i int) (first, last string, suffix int) {
	f := i % len(firstNames)
	l := (i/len(firstNames) + i) % len(lastNames)
	return firstNames[f], lastNames[l], i / (len(firstNames) * len(lastNames))
}
