// Command device-kvm is the cloudphone device backend plugin (process,
// kind device) that runs phones as virtual machines on QEMU: Android-x86
// images in production, a tiny Linux guest that runs the simulated phone
// in the tests.
//
// Provision boots one VM: a qcow2 overlay per VM over the configured base
// image (`qemu-img create -f qcow2 -b BASE -F FORMAT`), or a blank qcow2
// disk when there is none (the disk is what snapshots are saved in); a
// kernel, initrd and command line for guests booted that way; user
// networking with the guest's adb port forwarded to 127.0.0.1 on a free
// host port (never 5555–5585, the ports the adb server scans for
// emulators); QMP on a unix socket in the VM's directory. KVM is used
// when /dev/kvm can be opened, TCG (with a warning) otherwise, unless the
// accel setting says which. Provision returns once adbd answers and
// sys.boot_completed is 1 (sdk/android.WaitBoot).
//
// A VM is then served like any adb-reached phone: Observe, Act, Shell and
// Health go through sdk/android over one persistent sdk/adb connection
// (an adb.Redialer, which redials after the guest drops it). Health adds
// QMP's run state (query-status). SaveSnapshot and LoadSnapshot (HMP
// savevm/loadvm through QMP's human-monitor-command) save and restore the
// whole VM in its overlay, resetting a phone in about a second instead of
// rebooting it. With the spares setting, Release resets a VM to the
// snapshot saved right after its boot and keeps it for the next
// Provision, which then takes well under a second; otherwise Release
// stops QEMU (QMP quit; with shutdown=powerdown an ACPI power-off first,
// then quit, then SIGKILL) and removes the VM's directory, overlay
// included.
//
// QEMU runs in its own session, detached from the plugin: a plugin that
// crashes or is restarted (a hot swap, a config reload) leaves its VMs
// running, and the next start adopts them from state_dir (vm.json in each
// VM directory; a VM whose QEMU is gone has its directory removed). Only
// Release, or a person, stops a VM.
//
// A missing QEMU is not a plugin failure: the plugin loads and is active,
// List reports it in backend_status and Provision fails with
// FailedPrecondition.
//
// Files:
//
//   - main.go: plugin.ServeDevice.
//   - config.go: the settings section (plugins.config.device-kvm) and its
//     defaults; README.md lists the keys.
//   - backend.go: Configure, List, Provision, Release; device.go:
//     Observe, Act, Shell, Health; spares.go: spare VMs; snapshot.go:
//     savevm, loadvm, query-block.
//   - vm.go: one QEMU process: disk, command line, start, QMP calls,
//     stop. adopt.go: finding VMs a previous run left.
//   - internal/qmp: a small QMP client (greeting, qmp_capabilities,
//     execute with ids, events skipped).
//   - fetch-kernel.sh: puts the test guest's kernel (vmlinuz, e1000.ko
//     from Debian's linux-image package) in the asset cache; the tests
//     build the initramfs themselves (guest_test.go, testdata/phone).
//
// What it is not: an Android image builder, a VNC/graphics front end, or
// a pool (core/pool decides when to provision and release).
package main
