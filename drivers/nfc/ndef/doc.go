// Package ndef encodes and decodes NFC Data Exchange Format messages, the
// records phones read from and write to NFC tags, and the TLV blocks that
// hold a message in the data area of an NFC Forum Type 2 tag (NTAG).
//
// It follows these NFC Forum technical specifications:
//
//   - NFC Data Exchange Format (NDEF), NFCForum-TS-NDEF_1.0: the record
//     header (MB, ME, CF, SR, IL flags and the 3-bit TNF), short and long
//     records, record chunks, and the message rules.
//   - URI Record Type Definition, NFCForum-TS-RTD_URI_1.0: well-known type
//     "U", one identifier code byte (the abbreviation table 0x00..0x23)
//     followed by the rest of the URI in UTF-8.
//   - Text Record Type Definition, NFCForum-TS-RTD_Text_1.0: well-known
//     type "T", a status byte (bit 7 UTF-16, bits 5..0 the length of the
//     IANA language code), the language code, then the text.
//   - Type 2 Tag Operation, NFCForum-TS-Type-2-Tag_1.1: the NULL, Lock
//     Control, Memory Control, NDEF Message, Proprietary and Terminator TLVs
//     and their 1- or 3-byte length.
//
// Decisions where the specifications leave room:
//
//   - Decode assembles chunked records (CF) into one Record: TNF, Type and
//     ID come from the first chunk, the payloads are concatenated. Encode
//     never chunks; it writes a long record (4-byte payload length) when a
//     payload exceeds 255 bytes and a short record otherwise.
//   - Decode is strict: MB only on the first record, ME only on the last,
//     no bytes after it, TNF 7 (reserved) refused, the length rules of each
//     TNF enforced. It copies its input once, so the records it returns
//     do not alias the caller's buffer. It never panics.
//   - The status byte's reserved bit 6 of a Text record is ignored when
//     reading and written as 0. UTF-16 text is written big-endian with a
//     byte-order mark; read either way, big-endian when there is no mark.
//   - URI identifier codes from 0x24 on are reserved and refused; a URI
//     prefix is matched case-sensitively, so decoding gives back exactly
//     the string encoded.
//   - UnwrapTLV skips Lock and Memory Control, Proprietary and unknown
//     TLVs by their length. It assumes the areas they reserve lie outside
//     the NDEF TLV, as on NTAG, whose dynamic lock bytes follow the data
//     area.
//
// Record.String never prints payloads: they may hold tokens.
package ndef
