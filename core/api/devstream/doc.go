// Package devstream is the device-state WebSocket of the API
// (GET /api/v1/devices/stream): it streams every change of the devices a
// caller may see as sequenced, hashed packets, retransmits what the client
// has not acknowledged, and lets a client that reconnects resume where it
// stopped. Multi-screen consoles use it to keep a grid of phones current
// without polling.
//
// Protocol (JSON text messages):
//
//	server → client
//	  {"type":"hello","session":"3f…","resumed":false,"seq":0}
//	  {"type":"state","device_id":"sim/sim-0","seq":1,"timestamp":"…",
//	   "data":"{\"id\":\"sim/sim-0\",…}","hash":"<hex sha256 of data>"}
//	client → server
//	  {"type":"ack","seq":1}      acknowledge one packet
//	  {"type":"ack","upto":7}     acknowledge every packet up to 7
//	  {"type":"nack","seq":3}     packet 3 failed its hash: send it again now
//
// data is the JSON text of a pool.DeviceStatus (as GET /api/v1/devices
// shows it), or "null" when the device left the pool or the caller's view.
// Sequence numbers are dense per session, so a gap means a lost packet; a
// client checks hash = sha256(data) and does not acknowledge a corrupt
// packet. Unacknowledged packets are sent again after Options.Retransmit.
// A client reconnects with ?session=<id>&resume=<last seq it processed>:
// everything up to resume counts as acknowledged and the rest is sent
// again; an unknown or expired session starts afresh with a snapshot.
// A packet not sent yet is replaced by a newer state of its device (it
// keeps its seq), so an absent client costs one packet per device. A
// client with more than Options.MaxUnacked packets sent and not
// acknowledged (beyond one per device it is shown) is too slow: it is
// closed with status 1008 and a reason saying so, and its session is
// dropped.
//
// The device states come from a Source (*pool.Pool), polled every
// Options.Interval (Poke polls at once). Callers see the devices their
// auth.Principal may see (the tenant rule of GET /api/v1/devices).
//
// Main types: Hub (New, Run, ServeHTTP, Poke), Source, Packet, Hello.
package devstream
