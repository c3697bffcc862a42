package agent

import (
	"fmt"
	"log/slog"

	"github.com/omo-edge/edge-agent/internal/plate"
	mqttsync "github.com/omo-edge/edge-agent/internal/sync"
)

// handleCommand answers the cloud's commands (cmd/<name> → reply/<name>).
// It must never panic on any payload; the publisher recovers anyway.
func (a *Agent) handleCommand(name string, payload []byte) []byte {
	switch name {
	case plate.CommandName:
		return a.nfc.plateContent(a.cmdLog, a.cfg.StoreID, payload)
	}
	a.cmdLog.Warn("unknown command", "command", mqttsync.TruncateName(name))
	return plate.Reply{Error: fmt.Sprintf("unknown command %q (this agent answers: %s)", mqttsync.TruncateName(name), plate.CommandName)}.Encode()
}

// plateContent applies a cmd/plate-content payload: parsed and validated
// (plate.ParseCommand), checked against this store and its plates, then
// persisted and written to the tag when no phone is on it.
// log is the command path's rate-limited log.
func (n *nfcState) plateContent(log *slog.Logger, store string, payload []byte) []byte {
	c, err := plate.ParseCommand(payload)
	reply := plate.Reply{RequestID: c.RequestID, Plate: c.Plate}
	refuse := func(msg string) []byte {
		log.Warn("plate content command refused", "request_id", c.RequestID, "err", msg)
		reply.Error = msg
		return reply.Encode()
	}
	if err != nil {
		reply.Plate = ""
		return refuse(err.Error())
	}
	if c.Store != "" && c.Store != store {
		return refuse(fmt.Sprintf("unauthorized: the command is for store %q, this agent serves %q", c.Store, store))
	}
	ctl := n.plates[c.Plate]
	if ctl == nil {
		return refuse(fmt.Sprintf("unknown plate %q: no nfc-plate sensor of this agent has that id", c.Plate))
	}
	applied, err := ctl.SetContent(c.Content, plate.FromCloud, c.RequestID)
	if err != nil {
		return refuse(err.Error())
	}
	log.Info("plate content set by the cloud", "plate", c.Plate, "request_id", c.RequestID,
		"base_url", c.Content.BaseURL, "uri", c.Content.URI, "applied", applied)
	reply.OK, reply.Applied = true, &applied
	return reply.Encode()
}
