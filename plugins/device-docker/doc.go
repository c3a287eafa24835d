// Command device-docker is the cloudphone device backend plugin for
// Android containers (redroid) on a Docker Engine API: Docker itself, or
// podman's Docker-compatible service. Each provisioned container is one
// phone, reached by adb on a port the engine publishes on 127.0.0.1 only,
// and served like any adb phone (sdk/android over a persistent sdk/adb
// connection):
//
//   - Provision creates and starts a container (image, resolution, DPI,
//     memory and CPU limits, GPU mode from the request's options over the
//     settings), waits until adb answers and sys.boot_completed is 1, and
//     returns the device. A container that exits while booting fails the
//     provision at once, with its output; a failed provision leaves no
//     container behind.
//   - Observe, Act, Shell and Health go over the device's adb connection
//     (redialled after a drop); Health adds the container's state.
//   - Release stops the container (5 s for Android to shut down) and
//     removes it.
//   - Every container carries labels (io.cloudphone.managed=true,
//     io.cloudphone.instance, io.cloudphone.device=<id>, the adb port, the
//     resolution, and io.cloudphone.label.<k> for the device's labels), so
//     a restarted plugin adopts its running containers and removes its
//     dead ones. Closing the plugin leaves containers running.
//   - An engine that does not answer is not a plugin failure: the plugin
//     loads and stays active, List reports "docker engine unreachable at
//     <endpoint>: …" in backend_status and retries on every call.
//
// The engine client is github.com/moby/moby/client. It negotiates the API
// version down to the engine's (podman 4.3 serves 1.41) and, when the
// engine reports a version below the client's minimum, pins that version
// instead of refusing the engine (engine.go).
//
// Main types: docker (the plugin), engine (the Docker API calls), device
// (one container), settings/spec (config.go). Settings are described in
// README.md.
package main
