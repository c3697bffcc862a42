package broker

import (
	"errors"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

func connect(t *testing.T, url, user, pass string) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID("t").SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectTimeout(2 * time.Second)
	if user != "" {
		o.SetUsername(user).SetPassword(pass)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	tok.Wait()
	return c, tok.Error()
}

func TestPublishSubscribeInline(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Addr() == "127.0.0.1:0" || b.URL() != "tcp://"+b.Addr() {
		t.Fatalf("addr %q url %q: want the real port", b.Addr(), b.URL())
	}
	got := make(chan Message, 10)
	if err := b.Subscribe("a/+/c", func(m Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("a/#", nil); err == nil {
		t.Error("nil subscriber accepted")
	}
	c, err := connect(t, b.URL(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(10)
	c.Publish("a/x/d", 1, false, "other").Wait()
	c.Publish("a/b/c", 1, true, `{"n":1}`).Wait()
	select {
	case m := <-got:
		if m.Topic != "a/b/c" || string(m.Payload) != `{"n":1}` {
			t.Errorf("got %+v", m)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("inline subscriber saw nothing")
	}
	// a late subscriber gets the retained message
	late := make(chan Message, 1)
	b.Subscribe("a/b/c", func(m Message) { late <- m })
	select {
	case m := <-late:
		if !m.Retained {
			t.Errorf("late subscriber got %+v, want it retained", m)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no retained message")
	}
	// the broker publishes to clients (commands in the demo)
	cmds := make(chan string, 1)
	c.Subscribe("cmd/#", 1, func(_ paho.Client, m paho.Message) { cmds <- string(m.Payload()) }).Wait()
	if err := b.Publish("cmd/ping", []byte("hi"), false, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-cmds:
		if s != "hi" {
			t.Errorf("command %q", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("client got no command")
	}
}

func TestUsers(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil, WithUsers(map[string]string{"agent": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := connect(t, b.URL(), "agent", "pw")
	if err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	c.Disconnect(10)
	for _, cred := range [][2]string{{"agent", "nope"}, {"", ""}, {"other", "pw"}} {
		if _, err := connect(t, b.URL(), cred[0], cred[1]); !errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			t.Errorf("%q/%q: %v, want refused", cred[0], cred[1], err)
		}
	}
}

func TestRestartOnSamePort(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	b.Close()
	if _, err := connect(t, "tcp://"+addr, "", ""); err == nil {
		t.Fatal("connected to a closed broker")
	}
	b2, err := Start(addr, nil)
	if err != nil {
		t.Fatalf("restart on %s: %v", addr, err)
	}
	defer b2.Close()
	c, err := connect(t, b2.URL(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Disconnect(10)
	if _, err := Start(addr, nil); err == nil {
		t.Error("second broker on a used port started")
	}
}
