// Command device-adb is the cloudphone device backend plugin for Android
// phones reachable by adb: USB or network phones an adb server knows, and
// network-adb phones (`adb tcpip`, cloud phones) connected directly.
//
//   - Discovery: the adb server at adb_server (default 127.0.0.1:5037) is
//     followed live with host:track-devices; when it does not answer the
//     plugin stays active, says so in ListResponse.backend_status and
//     retries with backoff. Each address in addresses is connected
//     directly with sdk/adb on one persistent connection (adb.Redialer,
//     redialled after a drop), authenticating with the RSA key at adb_key
//     (default ~/.android/adbkey, created when missing). An address the
//     server also lists is served by the direct connection.
//   - List: every phone with labels backend=adb, model, android,
//     resolution and transport (direct or server); READY, BOOTING while
//     it does not answer `wm size` yet, OFFLINE when it cannot be reached,
//     UNHEALTHY when the server says it is unauthorized.
//   - Observe, Act and Health go through sdk/android (one round of
//     concurrent streams per observation; the ADB Keyboard for text, with
//     an `input text` fallback); Shell runs a command.
//   - Provision is unsupported (physical phones are not created) and
//     Release is a no-op for a known phone.
//
// Settings (plugins.config.device-adb) are described in README.md and
// applied live by Configure.
package main
