package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/omo-edge/edge-agent/internal/aggregate"
)

// Delivery is one window message as the consumer saw it.
type Delivery struct {
	ID         string
	Store      string
	Agent      string
	Seq        uint64
	Historical bool      // sent from the backlog after an outage
	WindowEnd  time.Time // the window's end, store wall time
	At         time.Time // when it arrived
}

// StoreTotals is what one agent delivered.
type StoreTotals struct {
	Store      string `json:"store"`
	Agent      string `json:"agent"`
	Windows    uint64 `json:"windows"`    // distinct window messages (by id)
	Duplicates uint64 `json:"duplicates"` // re-deliveries of an id already seen
	Historical uint64 `json:"historical"` // distinct ones that came from the backlog
	MaxSeq     uint64 `json:"max_seq"`
	// SeqGaps is how many seqs up to MaxSeq were not seen: windows still in
	// the agent's outbox, or dropped there (health's outbox.dropped).
	SeqGaps uint64 `json:"seq_gaps"`
}

// Consumer is the cloud side of the fleet: it takes the window messages
// (agg/<sensor> and store) of every agent, deduplicates them by "id" (the
// agents deliver at least once) and keeps per-store totals. It is safe for
// concurrent use.
type Consumer struct {
	// Observe, when set, is called with every first delivery of an id
	// (not for duplicates), outside the consumer's lock.
	Observe func(Delivery)
	// StorePrefix, when set, keeps only the windows of stores whose id
	// starts with it (one fleet-sim process among several on a broker).
	StorePrefix string

	mu         sync.Mutex
	stores     map[string]*storeSeen // by store/agent
	deliveries uint64
	duplicates uint64
	invalid    uint64
}

type storeSeen struct {
	totals StoreTotals
	ids    map[string]struct{}
	seqs   map[uint64]struct{}
}

// NewConsumer returns an empty consumer.
func NewConsumer() *Consumer { return &Consumer{stores: map[string]*storeSeen{}} }

// message is the part of a window message the consumer reads (docs/MQTT.md).
type message struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Seq        uint64 `json:"seq"`
	Store      string `json:"store"`
	Agent      string `json:"agent"`
	WindowEnd  string `json:"window_end"`
	Historical bool   `json:"historical"`
}

// Handle takes one message received at at. Messages other than windows
// (status, health, replies) are ignored; a window message without an id
// or store is counted as invalid.
func (c *Consumer) Handle(payload []byte, at time.Time) {
	var m message
	if err := json.Unmarshal(payload, &m); err != nil {
		c.mu.Lock()
		c.invalid++
		c.mu.Unlock()
		return
	}
	if m.Type != aggregate.TypeSensorWindow && m.Type != aggregate.TypeStoreWindow {
		return
	}
	if !strings.HasPrefix(m.Store, c.StorePrefix) {
		return
	}
	end, err := time.Parse(time.RFC3339, m.WindowEnd)
	c.mu.Lock()
	if m.ID == "" || m.Store == "" || err != nil {
		c.invalid++
		c.mu.Unlock()
		return
	}
	c.deliveries++
	key := m.Store + "/" + m.Agent
	s := c.stores[key]
	if s == nil {
		s = &storeSeen{totals: StoreTotals{Store: m.Store, Agent: m.Agent}, ids: map[string]struct{}{}, seqs: map[uint64]struct{}{}}
		c.stores[key] = s
	}
	if _, dup := s.ids[m.ID]; dup {
		s.totals.Duplicates++
		c.duplicates++
		c.mu.Unlock()
		return
	}
	s.ids[m.ID] = struct{}{}
	s.seqs[m.Seq] = struct{}{}
	s.totals.Windows++
	if m.Historical {
		s.totals.Historical++
	}
	s.totals.MaxSeq = max(s.totals.MaxSeq, m.Seq)
	obs := c.Observe
	c.mu.Unlock()
	if obs != nil {
		obs(Delivery{ID: m.ID, Store: m.Store, Agent: m.Agent, Seq: m.Seq, Historical: m.Historical, WindowEnd: end, At: at})
	}
}

// Totals returns each store's totals, sorted by store and agent.
func (c *Consumer) Totals() []StoreTotals {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]StoreTotals, 0, len(c.stores))
	for _, s := range c.stores {
		t := s.totals
		t.SeqGaps = t.MaxSeq - uint64(len(s.seqs))
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b StoreTotals) int {
		return cmp.Or(cmp.Compare(a.Store, b.Store), cmp.Compare(a.Agent, b.Agent))
	})
	return out
}

// Counts returns the distinct windows, all deliveries, the duplicates and
// the invalid messages seen so far.
func (c *Consumer) Counts() (windows, deliveries, duplicates, invalid uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stores {
		windows += s.totals.Windows
	}
	return windows, c.deliveries, c.duplicates, c.invalid
}

// Delivered reports whether store/agent's record seq arrived.
func (c *Consumer) Delivered(store, agent string, seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stores[store+"/"+agent]
	if s == nil {
		return false
	}
	_, ok := s.seqs[seq]
	return ok
}

// Filters are the topic filters of the window messages under prefix; with
// share they are MQTT 5 / Mosquitto / EMQX shared subscriptions
// ($share/<share>/...), so several consumer instances split the stream.
func Filters(prefix, share string) []string {
	fs := []string{prefix + "/+/+/agg/+", prefix + "/+/+/store"}
	if share != "" {
		for i := range fs {
			fs[i] = "$share/" + share + "/" + fs[i]
		}
	}
	return fs
}

// SubscribeOptions say how the consumer connects to the broker.
type SubscribeOptions struct {
	Broker      string // tcp://host:port
	ClientID    string
	TopicPrefix string
	// Share is the shared-subscription group; "" subscribes plainly.
	Share string
	// Username and Password, when the broker wants them.
	Username, Password string
}

// Subscribe connects the consumer with a persistent session (clean session
// off, QoS 1), so the broker queues what arrives while the consumer is away
// or restarting, and subscribes again at every reconnect. It returns once
// subscribed; stop disconnects.
func (c *Consumer) Subscribe(ctx context.Context, o SubscribeOptions) (stop func(), err error) {
	if o.ClientID == "" {
		return nil, errors.New("consumer: client id missing (a persistent session needs a stable one)")
	}
	filters := map[string]byte{}
	for _, f := range Filters(o.TopicPrefix, o.Share) {
		filters[f] = 1
	}
	subscribed := make(chan error, 1)
	handler := func(_ mqtt.Client, m mqtt.Message) { c.Handle(m.Payload(), time.Now()) }
	opts := mqtt.NewClientOptions().AddBroker(o.Broker).SetClientID(o.ClientID).
		SetCleanSession(false).SetProtocolVersion(4).
		SetOrderMatters(true). // Handle is quick: no goroutine per message

		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(500 * time.Millisecond).
		SetMaxReconnectInterval(2 * time.Second).SetKeepAlive(30 * time.Second).
		SetDefaultPublishHandler(handler).
		SetOnConnectHandler(func(cl mqtt.Client) {
			tok := cl.SubscribeMultiple(filters, handler)
			go func() {
				tok.Wait()
				err := tok.Error()
				if st, ok := tok.(*mqtt.SubscribeToken); ok && err == nil {
					for f, code := range st.Result() {
						if code == 0x80 {
							err = fmt.Errorf("consumer: broker refused the subscription %s", f)
						}
					}
				}
				select {
				case subscribed <- err:
				default:
				}
			}()
		})
	if o.Username != "" {
		opts.SetUsername(o.Username).SetPassword(o.Password)
	}
	cl := mqtt.NewClient(opts)
	cl.Connect()
	stop = func() { cl.Disconnect(250) }
	select {
	case err := <-subscribed:
		if err != nil {
			stop()
			return nil, err
		}
		return stop, nil
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
}
