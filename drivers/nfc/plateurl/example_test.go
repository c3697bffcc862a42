package plateurl_test

import (
	"errors"
	"fmt"

	"github.com/omo-edge/edge-agent/drivers/nfc/plateurl"
)

// The store's secret; in production it is read from a file, never logged.
var secret = []byte("example store secret 0123456789")

// Test vectors: the MACs were computed independently with Python's hmac
// module from the byte layout in the package documentation.
func ExampleSign() {
	for _, v := range []struct {
		base    string
		plate   string
		counter uint64
	}{
		{"https://c.example.com/t", "plate-1", 42},
		{"https://c.example.com/t", "plate-1", 43},
		{"https://c.example.com/t?store=12#top", "shelf-a.plate_2", 0},
		{"http://x.example/", "p", 18446744073709551615},
	} {
		u, err := plateurl.Sign(v.base, v.plate, v.counter, secret)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(u)
	}
	// Output:
	// https://c.example.com/t?p=plate-1&c=42&m=xXOa7uE_tPvD8xq_Pg858A
	// https://c.example.com/t?p=plate-1&c=43&m=Njqt5I13zKSqjU_lKd8o6Q
	// https://c.example.com/t?store=12&p=shelf-a.plate_2&c=0&m=HmJqPc95dpiBXbneqAd9qQ#top
	// http://x.example/?p=p&c=18446744073709551615&m=Mc4LYOQ7jbMkE4EqAryF7A
}

func ExampleVerifier() {
	v, err := plateurl.NewVerifier(secret, plateurl.NewMemoryRedeemed())
	if err != nil {
		fmt.Println(err)
		return
	}
	u := "https://c.example.com/t?p=plate-1&c=42&m=xXOa7uE_tPvD8xq_Pg858A"
	c, err := v.Redeem(u)
	fmt.Println(c.PlateID, c.Counter, err)
	_, err = v.Redeem(u) // the same URL, copied and opened again
	fmt.Println(errors.Is(err, plateurl.ErrReplayed))
	_, err = v.Redeem("https://c.example.com/t?p=plate-1&c=44&m=xXOa7uE_tPvD8xq_Pg858A")
	fmt.Println(errors.Is(err, plateurl.ErrBadMAC))
	// Output:
	// plate-1 42 <nil>
	// true
	// true
}
