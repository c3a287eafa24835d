// Package console is the web console the binary serves at "/": plain
// HTML, CSS and ES modules embedded with embed.FS (no CDN, no build step).
//
// The page itself is public and shows a login form: the operator pastes a
// token (`cloudphone token create …`), which is kept in sessionStorage and
// sent as "Authorization: Bearer" on every API call (and as
// ?access_token= on the two streams, which browsers cannot give headers).
// It shows the devices grid with live screenshots and state (the
// devstream WebSocket, polling GET /api/v1/devices when the socket is
// down), a task form, the task list, a task's timeline (screenshot,
// thinking, action and timings per step, live over SSE) with cancel,
// confirm, deny and resume buttons, plugins with versions, state and
// reload history, and vGPU slices with their usage.
//
// Handler serves "/", "/index.html", "/favicon.ico" and "/assets/…";
// any other path is a JSON 404. It is not an API: every figure on the
// page comes from the public HTTP API (docs/console.md).
package console
