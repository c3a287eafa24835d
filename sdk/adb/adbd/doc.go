// Package adbd is the device side of the adb protocol: it makes a
// Handler, one simulated (or proxied) phone, reachable by Debian's `adb`
// binary and by sdk/adb's client.
//
// A backend implements Handler (Banner, Shell, FS) and optionally
// Rebooter and ServiceOpener, then runs a Server:
//
//	srv := &adbd.Server{Handler: phone}
//	ln, _ := net.Listen("tcp", "127.0.0.1:6100")
//	go srv.Serve(ctx, ln)
//	// adb connect 127.0.0.1:6100 && adb -s 127.0.0.1:6100 shell echo hi
//
// The server answers the host's CNXN with the banner (features default to
// wire.DefaultFeatures: shell_v2, cmd, stat_v2, ls_v2, fixed_push_mkdir,
// …), runs AUTH when Server.Auth is set (signature check against known
// keys, then Auth.Confirm for an offered key, like the "Allow USB
// debugging?" prompt), and serves each stream in its own goroutine:
//
//   - shell:CMD (v1: raw bytes, stderr merged, no exit status) and
//     shell,v2,[raw|pty],[TERM=…]:CMD (framed stdin/stdout/stderr/exit);
//     an empty CMD is an interactive shell request passed to the Handler;
//   - exec:CMD (raw bytes, as adb exec-out uses);
//   - sync: on Handler.FS (adb push/pull/ls, stat_v2 and ls_v2);
//   - reboot:[TARGET] when the Handler is a Rebooter;
//   - anything else via ServiceOpener, or refused.
//
// Closing the connection or cancelling ctx cancels every stream's context
// and returns only after all stream goroutines are done.
// Server.DropConnections cuts every host off at once (fault injection).
// MemFS is a small in-memory FileSystem for simulated storage.
//
// Not here: USB, TLS (STLS is ignored), jdwp, port forwarding.
package adbd
