package buffer

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// RecordOverhead is what MaxBytes accounting adds to each record's key and
// value: bbolt's leaf element header (16 bytes).
const RecordOverhead = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadRecord is a stored record that does not decode or fails its CRC.
var errBadRecord = errors.New("bad record")

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// encodedLen is the size of a record value.
func encodedLen(topic string, payload []byte, ms uint64) int {
	return 4 + uvarintLen(ms) + uvarintLen(uint64(len(topic))) + len(topic) + len(payload)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendRecord appends the value stored under key:
// crc32c(key ‖ rest) | uvarint commit-ms | uvarint len(topic) | topic | payload.
func appendRecord(dst, key []byte, topic string, payload []byte, ms uint64) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.AppendUvarint(dst, ms)
	dst = binary.AppendUvarint(dst, uint64(len(topic)))
	dst = append(dst, topic...)
	dst = append(dst, payload...)
	c := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, dst[start+4:])
	binary.BigEndian.PutUint32(dst[start:], c)
	return dst
}

// decodeRecord splits a stored value; topic and payload alias v.
func decodeRecord(key, v []byte) (ms uint64, topic, payload []byte, err error) {
	if len(key) != 8 || len(v) < 6 {
		return 0, nil, nil, errBadRecord
	}
	want := binary.BigEndian.Uint32(v)
	if crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, v[4:]) != want {
		return 0, nil, nil, errBadRecord
	}
	rest := v[4:]
	ms, n := binary.Uvarint(rest)
	if n <= 0 {
		return 0, nil, nil, errBadRecord
	}
	rest = rest[n:]
	tl, n := binary.Uvarint(rest)
	if n <= 0 || tl > uint64(len(rest)-n) {
		return 0, nil, nil, errBadRecord
	}
	rest = rest[n:]
	return ms, rest[:tl], rest[tl:], nil
}

// appendState is a state value: crc32c(key ‖ val) | val.
func appendState(dst []byte, key string, val []byte) []byte {
	c := crc32.Update(crc32.Update(0, castagnoli, []byte(key)), castagnoli, val)
	return append(binary.BigEndian.AppendUint32(dst, c), val...)
}

func decodeState(key, v []byte) ([]byte, bool) {
	if len(v) < 4 {
		return nil, false
	}
	c := crc32.Update(crc32.Update(0, castagnoli, key), castagnoli, v[4:])
	return v[4:], c == binary.BigEndian.Uint32(v)
}

// fileMeta is the one value in the meta bucket, checksummed so a flipped
// bit cannot lower the seq (and reuse seqs) or the dropped counter unseen.
type fileMeta struct {
	version uint8
	seq     uint64 // last seq committed
	dropped uint64
	depth   uint64 // record count, checked against the scan at Open
	bytes   uint64 // accounted record bytes, likewise
}

const fileMetaLen = 1 + 4*8 + 4

func (m fileMeta) encode() []byte {
	b := make([]byte, 0, fileMetaLen)
	b = append(b, m.version)
	for _, v := range []uint64{m.seq, m.dropped, m.depth, m.bytes} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeFileMeta(b []byte) (fileMeta, bool) {
	if len(b) != fileMetaLen || crc32.Checksum(b[:fileMetaLen-4], castagnoli) != binary.BigEndian.Uint32(b[fileMetaLen-4:]) {
		return fileMeta{}, false
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[1+8*i:]) }
	return fileMeta{version: b[0], seq: u(0), dropped: u(1), depth: u(2), bytes: u(3)}, true
}

func recordSize(v []byte) int64 { return int64(8 + len(v) + RecordOverhead) }
