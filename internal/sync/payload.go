package sync

// markHistorical returns payload with "historical":true added to its JSON
// object, spliced in before the closing brace so that the stored record (and
// the id it carries) stays byte-for-byte the same. A payload that does not
// end in '}' after optional white space is returned unchanged.
func markHistorical(payload []byte) []byte {
	end := len(payload) - 1
	for end >= 0 && isSpace(payload[end]) {
		end--
	}
	if end < 1 || payload[end] != '}' {
		return payload
	}
	prev := end - 1
	for prev >= 0 && isSpace(payload[prev]) {
		prev--
	}
	if prev < 0 {
		return payload
	}
	const field = `"historical":true`
	out := make([]byte, 0, len(payload)+len(field)+1)
	out = append(out, payload[:end]...)
	if payload[prev] != '{' { // non-empty object
		out = append(out, ',')
	}
	out = append(out, field...)
	return append(out, payload[end:]...)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
