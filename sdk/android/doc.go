// Package android drives an Android device over adb the way every
// cloudphone device backend needs to: it turns the Device contract's
// Observe, Act and Health into shell commands sent over an [adb.Device]
// (a persistent *adb.Conn, an *adb.Redialer or a server-routed
// *adb.ServerDevice), and parses what the device answers.
//
//   - [Observe] gathers the screenshot (`exec-out screencap -p`), the UI
//     hierarchy (`uiautomator dump` to a per-call file under
//     /data/local/tmp, printed and removed in the same command; /dev/tty
//     on request), the focused app (`dumpsys window`) and, unless the
//     caller knows it, the screen size (`wm size`) in one round of
//     concurrent streams on the device's connection. With a real phone's
//     latencies (the simulated phone's "phone" profile) an observation
//     takes ≈154 ms concurrent against ≈268 ms sequential
//     (BenchmarkObserve).
//   - [Act] maps a normalized action to `input`, `monkey` and ADB Keyboard
//     commands ([Commands] is the pure mapping) and runs them in order.
//     Text goes through the ADB Keyboard (com.android.adbkeyboard/.AdbIME,
//     as Open-AutoGLM does) when it is installed, and falls back to
//     `input text` with escaping for ASCII text otherwise.
//   - [Health] reads sys.boot_completed, the battery level and the screen
//     state; [WaitBoot] polls until the device has booted.
//   - Parsers for what those commands print ([ParseFocus], [ParseWMSize],
//     [ParseBattery], [ParsePower]) are pure functions, fuzzed.
//
// The package keeps no per-device state of its own: callers that observe
// a device repeatedly pass its size in [ObserveOptions.Screen] (a
// [SizeCache] does the bookkeeping) so `wm size` runs once per device.
//
// What this package is not: an adb client (sdk/adb), a device backend
// (plugins/device-adb, device-docker, device-kvm use it), or a planner.
// Coordinates are absolute pixels: the 0–999 relative grid of AutoGLM is
// the planner's business.
package android
