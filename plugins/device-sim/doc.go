// Command device-sim is the cloudphone device backend plugin for simulated
// Android phones: no phone, emulator or GPU needed. It runs a fleet of
// phones (package fleet, phones from package phone) inside the plugin
// process, each also reachable by adb on its own port (127.0.0.1:6100,
// 6101, …), and serves the Device contract over them:
//
//   - List: every phone, READY (BOOTING after a reboot fault), with labels
//     backend=sim, model, android, resolution and profile, and its adb
//     address, which is also its id.
//   - Observe: screenshot, uiautomator XML, current app and its name,
//     gathered concurrently from the phone in this process (not over adb),
//     with the phone's latency profile and faults applied.
//   - Act: each normalized action becomes the shell commands a real adb
//     backend sends (input tap/swipe/keyevent, monkey, ADB Keyboard
//     broadcasts), run on the phone.
//   - Shell, Health; Provision adds a phone on the next free port and
//     Release removes one that Provision added.
//
// Settings (plugins.config.device-sim) are described in README.md; a
// changed section is applied live where it can be (count, labels) and
// otherwise by re-creating the fleet.
package main
