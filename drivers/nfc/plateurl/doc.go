// Package plateurl signs and verifies the one-time coupon URLs of smart
// plates. After every tap the edge agent writes the plate's next URL: the
// store's base URL with the plate's id, a counter that never repeats and a
// MAC over both. The cloud, which knows the store's secret, verifies the
// URL a phone opens and redeems each (plate, counter) once, so a coupon
// cannot be shared by copying its URL, and a URL cannot be forged or have
// its counter changed without the secret.
//
// The package has no dependency on the agent and is meant to be imported by
// the cloud service; `edge-agent plate verify URL` wraps Verify.
//
// # Algorithm (version 1)
//
// Inputs: the per-store secret K (at least 16 bytes, used as is), the plate
// id P (1 to 64 characters from A-Z a-z 0-9 '-' '_' '.', so it needs no
// escaping in a URL) and the counter N (an unsigned 64-bit integer).
//
// MAC input, byte by byte:
//
//	offset  length  content
//	0       23      the ASCII label "edge-agent/plate-url/v1"
//	23      1       0x00 (ends the label)
//	24      1       len(P) in bytes, 1..64
//	25      len(P)  P in ASCII
//	25+len(P) 8     N as an unsigned 64-bit big-endian integer
//
// MAC = the first 16 bytes of HMAC-SHA256(K, MAC input) (RFC 2104, FIPS
// 198-1), written as unpadded base64url (RFC 4648 section 5): always 22
// characters from A-Z a-z 0-9 '-' '_'.
//
// The URL is the base URL followed by three query parameters, appended
// after any query the base already has (with '?' if it has none, '&'
// otherwise) and before its fragment, in this order:
//
//	p=<P>&c=<N in decimal, no sign, no leading zeros>&m=<MAC>
//
// Example: base "https://c.example.com/t", P "plate-1", N 42 and the
// secret "example store secret 0123456789" give
//
//	https://c.example.com/t?p=plate-1&c=42&m=xXOa7uE_tPvD8xq_Pg858A
//
// (see example_test.go for more vectors).
//
// To verify a URL: take its query (the part between the first '?' and the
// '#' or the end), split it on '&', and find p, c and m; each must occur
// exactly once, must not be percent-encoded and must have the syntax above
// (a URL with two p's is malformed, so two parsers can never disagree on
// which one counts). Recompute the MAC from P and N and compare it with the
// decoded m in constant time. The base URL (scheme, host, path and other
// parameters) is not authenticated: the cloud may move a plate's content,
// and what a coupon is worth is decided by (P, N) alone. A verifier
// redeeming coupons records each (P, N) it accepted and refuses it the
// second time; a store uses one secret, and plate ids are unique within it.
//
// # Why 16 bytes of MAC
//
// A forger must guess the MAC of an unused (P, N) online, one request to the
// cloud per guess, and succeeds with probability 2^-128 per guess; 128 bits
// is half of SHA-256's output, the truncation RFC 2104 section 5 recommends
// as its lower bound, and still only 22 characters on the tag. A counter
// that never repeats means the same (P, N, MAC) is never issued twice.
//
// # Length budget
//
// The URL must fit the plate: an NTAG I2C plus 1k (NT3H2111) holds an NDEF
// TLV of TagBudget (872) bytes. Sign refuses a URL whose NDEF message (one
// URI record, ndef.EncodeURI) does not fit as a TLV; CheckBase tells in
// advance whether a base URL will fit for a plate whatever its counter.
package plateurl
