package demo

import (
	"math/rand/v2"
	"time"
)

// Random streams. Each part of the data set draws from its own stream, so
// adding users or scenarios does not change the documents of the others.
const (
	streamCatalog uint64 = iota + 1
	streamUser
	streamSystem
	streamScenario
	streamStaff
)

// newRand returns a PCG source for (seed, stream, index), mixed so that
// neighbouring indices give unrelated sequences.
func newRand(seed, stream, index uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(seed^splitmix(stream)), splitmix(index+stream<<40)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// oktaID returns prefix followed by base62 characters, 20 characters in all,
// the shape of Okta object ids (00u… users, 0oa… apps, spr… principals).
func oktaID(r *rand.Rand, prefix string) string {
	return prefix + randomString(r, base62, 20-len(prefix))
}

func randomString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// sessionID returns an Okta external session id ("102" + 22 characters).
func sessionID(r *rand.Rand) string { return "102" + randomString(r, base62, 22) }

// requestID returns an Okta request/transaction id (27 characters, ending in
// the "…AAA" pattern of real ids).
func requestID(r *rand.Rand) string {
	return randomString(r, base62, 19) + "wAAA" + randomString(r, "ABCDEFGH", 1) + randomString(r, base62, 3)
}

func hexString(r *rand.Rand, n int) string { return randomString(r, hexDigits, n) }

// uuidV1 returns a time-based UUID for t, as Okta event uuids are; clock
// sequence and node are random.
func uuidV1(r *rand.Rand, t time.Time) string {
	const gregorianOffset = 0x01B21DD213814000 // 100 ns intervals from 1582-10-15 to 1970-01-01
	ts := uint64(t.UnixNano()/100) + gregorianOffset
	timeLow := uint32(ts)
	timeMid := uint16(ts >> 32)
	timeHi := uint16(ts>>48)&0x0fff | 0x1000
	clock := uint16(r.Uint32())&0x3fff | 0x8000
	node := r.Uint64() & 0xffffffffffff
	var b [36]byte
	putHex(b[0:8], uint64(timeLow), 8)
	b[8] = '-'
	putHex(b[9:13], uint64(timeMid), 4)
	b[13] = '-'
	putHex(b[14:18], uint64(timeHi), 4)
	b[18] = '-'
	putHex(b[19:23], uint64(clock), 4)
	b[23] = '-'
	putHex(b[24:36], node, 12)
	return string(b[:])
}

func putHex(dst []byte, v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// jitter returns a duration uniformly distributed in [lo, hi).
func jitter(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }
