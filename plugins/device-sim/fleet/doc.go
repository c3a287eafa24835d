// Package fleet runs many simulated phones (package phone) in one process,
// each reachable by adb on its own TCP port, as network-adb phones are.
//
// [Start] creates [Options.Count] phones listening on consecutive ports
// from [Options.Listen] (default 127.0.0.1:6100, then 6101, …); a phone's
// adb serial is its address, "127.0.0.1:6100". Ports 5555–5585 are
// refused: the adb server scans them for emulators on its own. A listen
// port of 0 gives every phone a port chosen by the system (for tests).
//
//	f, err := fleet.Start(ctx, fleet.Options{Count: 4})
//	defer f.Close()
//	// adb connect 127.0.0.1:6100 && adb -s 127.0.0.1:6100 shell wm size
//
// Each phone is served by an sdk/adb/adbd Server whose [Handler] maps
// shell: and exec: streams to phone.Phone.Run, sync: (push, pull, ls) to
// the phone's file system, and reboot: to phone.Phone.Reboot. A fault that
// drops the connection (phone.ErrDropConnection) closes the host's
// connection, as a phone losing USB does.
//
// A fleet grows and shrinks while it runs ([Fleet.Add], [Fleet.Remove]).
// An idle phone costs its state, a listener and one goroutine blocked in
// Accept: screens are rendered only when asked for (see BenchmarkIdle and
// TestThousandPhones for the figures). [Fleet.Close] closes every listener
// and connection and waits for every goroutine.
//
// What this package is not: the phone itself (package phone), the adb
// protocol (sdk/adb), or the cloudphone Device contract (the device-sim
// plugin's main package).
package fleet
