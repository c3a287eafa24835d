package devstream

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message types.
const (
	TypeHello = "hello"
	TypeState = "state"
	TypeAck   = "ack"
	TypeNack  = "nack"
)

// Hello is the first message of a connection.
type Hello struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	// Resumed is true when the session asked for was found: the packets
	// after the client's resume point follow. False: a new session, whose
	// first packets are a snapshot of every visible device.
	Resumed bool `json:"resumed"`
	// Seq is the last sequence number the session has assigned.
	Seq uint64 `json:"seq"`
}

// Packet is one device's state.
type Packet struct {
	Type      string    `json:"type"`
	DeviceID  string    `json:"device_id"`
	Seq       uint64    `json:"seq"`
	Timestamp time.Time `json:"timestamp"`
	// Data is the JSON text of the device's pool.DeviceStatus, or "null".
	Data string `json:"data"`
	// Hash is the hex SHA-256 of Data's bytes.
	Hash string `json:"hash"`
}

// Hash returns the hex SHA-256 of data, the Packet.Hash of data.
func Hash(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

// Verify reports whether p's hash matches its data.
func (p Packet) Verify() error {
	if got := Hash(p.Data); got != p.Hash {
		return fmt.Errorf("packet %d of %s: data hashes to %s, packet says %s", p.Seq, p.DeviceID, got, p.Hash)
	}
	return nil
}

// ClientMessage is what a client sends: an ack or a nack.
type ClientMessage struct {
	Type string `json:"type"`
	// Seq names one packet.
	Seq uint64 `json:"seq,omitempty"`
	// Upto acknowledges every packet up to and including it (ack only).
	Upto uint64 `json:"upto,omitempty"`
}

// ParseClientMessage decodes and checks a client message.
func ParseClientMessage(b []byte) (ClientMessage, error) {
	var m ClientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("client message: %w", err)
	}
	switch m.Type {
	case TypeAck:
		if m.Seq == 0 && m.Upto == 0 {
			return m, errors.New("client message: ack needs seq or upto")
		}
	case TypeNack:
		if m.Seq == 0 || m.Upto != 0 {
			return m, errors.New("client message: nack needs seq (and no upto)")
		}
	default:
		return m, fmt.Errorf("client message: unknown type %q (want ack or nack)", m.Type)
	}
	return m, nil
}
