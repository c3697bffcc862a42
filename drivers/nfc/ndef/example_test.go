package ndef_test

import (
	"fmt"

	"github.com/omo-edge/edge-agent/drivers/nfc/ndef"
)

// Write a URL to a smart plate's tag: the message, wrapped in the TLVs of a
// Type 2 tag's data area.
func ExampleEncodeURI() {
	msg, err := ndef.EncodeURI("https://www.example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% X\n", msg)
	fmt.Printf("% X\n", ndef.WrapTLV(msg))
	// Output:
	// D1 01 0C 55 02 65 78 61 6D 70 6C 65 2E 63 6F 6D
	// 03 10 D1 01 0C 55 02 65 78 61 6D 70 6C 65 2E 63 6F 6D FE
}

// Read what a phone wrote to a tag: find the NDEF TLV in the data area,
// decode the message, and look at each record.
func ExampleDecode() {
	mem := []byte{
		0x01, 0x03, 0xA0, 0x0C, 0x34, // Lock Control TLV, skipped
		0x03, 0x17, // NDEF TLV, 23 bytes
		0x91, 0x01, 0x0A, 0x55, 0x04, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', // URI https://a.example
		0x51, 0x01, 0x05, 0x54, 0x02, 'e', 'n', 'h', 'i', // Text "hi", en
		0xFE, 0x00, 0x00, // Terminator TLV, unused memory
	}
	msg, err := ndef.UnwrapTLV(mem)
	if err != nil {
		fmt.Println(err)
		return
	}
	recs, err := ndef.Decode(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		if u, err := r.URI(); err == nil {
			fmt.Println("URI", u)
		}
		if t, err := r.Text(); err == nil {
			fmt.Println("Text", t.Lang, t.Text)
		}
	}
	// Output:
	// URI https://a.example
	// Text en hi
}

// A record of any type: here a media-type record with an ID.
func ExampleEncode() {
	msg, err := ndef.Encode([]ndef.Record{
		{TNF: ndef.TNFMedia, Type: []byte("text/plain"), ID: []byte("1"), Payload: []byte("ok")},
	})
	fmt.Printf("% X %v\n", msg, err)
	// Output:
	// DA 0A 02 01 74 65 78 74 2F 70 6C 61 69 6E 31 6F 6B <nil>
}
