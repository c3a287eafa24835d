// Package adb is a client for Android's adb protocol, for device backends
// that drive phones (real, emulated or simulated) without spawning the
// `adb` binary per command.
//
// Two ways to reach a device, one API (Device):
//
//   - Dial connects straight to an adbd over TCP (network adb, the
//     simulated phones of plugins/device-sim) and keeps one persistent
//     connection (*Conn) carrying any number of concurrent streams. RSA
//     authentication uses adb's own key files (LoadKey, GenerateKey,
//     LoadOrCreateKey; ~/.android/adbkey). Redialer wraps Dial for
//     long-lived backends: one persistent connection, redialled after
//     the device drops it.
//   - ServerClient talks to a running adb server (port 5037): Devices,
//     TrackDevices, Connect, Disconnect, and ServerDevice, which opens one
//     server socket per call (host:transport:SERIAL, then the service), as
//     the server requires.
//
// Shell uses shell_v2 (separate stderr, exit codes) when the device
// advertises it; ExecOut uses exec: for raw bytes (screencap -p); Push,
// Pull, Stat and List speak sync: with stat_v2/ls_v2 where available.
//
// Layout:
//
//   - sdk/adb (this package): the client.
//   - sdk/adb/wire: the wire formats both sides share (24-byte packets,
//     banners, AUTH keys and signatures, shell_v2 frames, sync messages),
//     with strict, allocation-bounded decoders and their fuzz tests.
//   - sdk/adb/adbd: the device side, a Server that turns a Handler (one
//     simulated phone) into an adbd that Debian's adb 29 accepts.
//   - internal/transport: stream multiplexing and OKAY flow control,
//     used by both sides.
//
// wire is its own package (rather than this one) so that the client, the
// device side and the internal transport can share it without an import
// cycle; Banner and FileInfo are aliased here for convenience.
//
// Not here: USB, the adb server itself, TLS (STLS, adb 30+ wireless
// pairing), `adb install` logic, interactive terminals beyond raw bytes.
package adb
