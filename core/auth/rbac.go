package auth

import (
	"fmt"
	"slices"
)

// Action is one thing a caller may do through the API. Routes maps every
// endpoint to one.
type Action string

// The actions. Reads are viewer's; running and steering tasks operator's;
// everything that changes the system or sees other callers' doings admin's.
const (
	ActTasksRead       Action = "tasks.read"       // list, get, steps, events of tasks
	ActTasksRun        Action = "tasks.run"        // submit a task
	ActTasksCancel     Action = "tasks.cancel"     // cancel a task
	ActTasksConfirm    Action = "tasks.confirm"    // confirm a sensitive action
	ActTasksResume     Action = "tasks.resume"     // resume after take-over
	ActDevicesRead     Action = "devices.read"     // list devices and backends
	ActDevicesStream   Action = "devices.stream"   // live device state (WebSocket)
	ActDevicesRegister Action = "devices.register" // register a device agent, get a device token
	ActScreenshotsRead Action = "screenshots.read" // device and step screenshots
	ActPluginsRead     Action = "plugins.read"     // plugins, versions, reload history
	ActPluginsManage   Action = "plugins.manage"   // reload, enable, disable plugins
	ActSlicesRead      Action = "slices.read"      // vGPU slices and usage
	ActEventsRead      Action = "events.read"      // event streams other than a task's
	ActAPIRead         Action = "api.read"         // the OpenAPI document
	ActWhoAmI          Action = "whoami"           // the caller's own principal
	ActAuditRead       Action = "audit.read"       // the audit log
	ActTokensCreate    Action = "tokens.create"    // mint tokens
	ActAPIKeysManage   Action = "apikeys.manage"   // create, list, revoke API keys
	ActOtherTenant     Action = "tenant.other"     // name another tenant in a request
	ActAdmin           Action = "admin"            // any route missing from Routes
)

var (
	allRoles      = []Role{RoleAdmin, RoleOperator, RoleViewer}
	operatorsUp   = []Role{RoleAdmin, RoleOperator}
	adminOnly     = []Role{RoleAdmin}
	permissionTab = map[Action][]Role{
		ActTasksRead:       allRoles,
		ActDevicesRead:     allRoles,
		ActDevicesStream:   allRoles,
		ActScreenshotsRead: allRoles,
		ActPluginsRead:     allRoles,
		ActSlicesRead:      allRoles,
		ActEventsRead:      allRoles,
		ActAPIRead:         allRoles,
		ActWhoAmI:          allRoles,
		ActTasksRun:        operatorsUp,
		ActTasksCancel:     operatorsUp,
		ActTasksConfirm:    operatorsUp,
		ActTasksResume:     operatorsUp,
		ActDevicesRegister: operatorsUp,
		ActPluginsManage:   adminOnly,
		ActAuditRead:       adminOnly,
		ActTokensCreate:    adminOnly,
		ActAPIKeysManage:   adminOnly,
		ActOtherTenant:     adminOnly,
		ActAdmin:           adminOnly,
	}
	// deviceActions are all a device principal (an agent acting for one
	// device) may do, on top of what its role allows.
	deviceActions = []Action{ActDevicesRead, ActDevicesStream, ActScreenshotsRead, ActTasksRead, ActWhoAmI, ActAPIRead}
)

// Actions lists every action of the permission table, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(permissionTab))
	for a := range permissionTab {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// RolesFor returns the roles allowed to perform a (nil for an unknown
// action).
func RolesFor(a Action) []Role { return slices.Clone(permissionTab[a]) }

// Allowed reports whether a principal with role r may perform a. An
// unknown action or role is never allowed.
func Allowed(r Role, a Action) bool { return slices.Contains(permissionTab[a], r) }

// Authorize returns nil when p may perform a, else an error wrapping
// ErrForbidden naming both. Device principals are further limited to
// reading and streaming (their own device is checked per route).
func (p Principal) Authorize(a Action) error {
	if !Allowed(p.Role, a) {
		return fmt.Errorf("%w: role %s may not %s (allowed: %v)", ErrForbidden, p.Role, a, permissionTab[a])
	}
	if p.Kind == KindDevice && !slices.Contains(deviceActions, a) {
		return fmt.Errorf("%w: a device token may not %s", ErrForbidden, a)
	}
	return nil
}
