package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Route maps the requests matching an http.ServeMux pattern to what they
// need. Matching follows ServeMux's rules exactly (most specific pattern
// wins, GET also matches HEAD), so the middleware classifies a request the
// way the API's own ServeMux routes it.
type Route struct {
	// Pattern is a ServeMux pattern, method first: "GET /api/v1/tasks/{id}".
	Pattern string
	// Action is the permission the route needs (unused when Public).
	Action Action
	// Public routes need no credential.
	Public bool
	// SelfAuth routes pass the middleware unauthenticated; their handler
	// checks credentials itself (device registration takes a secret).
	SelfAuth bool
	// Stream routes also accept the token as ?access_token= (RFC 6750
	// §2.3), since browsers' EventSource and WebSocket cannot set headers.
	Stream bool
	// DeviceParam names the path wildcard holding a device id: a device
	// principal may only use its own device there.
	DeviceParam string
}

// defaultRoutes covers every endpoint of DESIGN §8 and issue 8. A request
// matching none of them needs ActAdmin (deny by default): add new
// endpoints here or in Options.Routes.
var defaultRoutes = []Route{
	// Public: health, metrics, the console page and its assets.
	{Pattern: "GET /healthz", Public: true},
	{Pattern: "GET /readyz", Public: true},
	{Pattern: "GET /metrics", Public: true},
	{Pattern: "GET /{$}", Public: true},
	{Pattern: "GET /index.html", Public: true},
	{Pattern: "GET /favicon.ico", Public: true},
	{Pattern: "GET /assets/", Public: true},
	{Pattern: "GET /static/", Public: true},
	{Pattern: "GET /console/", Public: true},

	// Tasks.
	{Pattern: "POST /api/v1/run", Action: ActTasksRun},
	{Pattern: "GET /api/v1/tasks", Action: ActTasksRead},
	{Pattern: "GET /api/v1/tasks/{id}", Action: ActTasksRead},
	{Pattern: "GET /api/v1/tasks/{id}/steps", Action: ActTasksRead},
	{Pattern: "GET /api/v1/tasks/{id}/steps/{n}/screenshot", Action: ActScreenshotsRead},
	{Pattern: "GET /api/v1/tasks/{id}/events", Action: ActTasksRead, Stream: true},
	{Pattern: "POST /api/v1/tasks/{id}/cancel", Action: ActTasksCancel},
	{Pattern: "POST /api/v1/tasks/{id}/confirm", Action: ActTasksConfirm},
	{Pattern: "POST /api/v1/tasks/{id}/resume", Action: ActTasksResume},
	{Pattern: "GET /api/v1/screenshots/{sha256}", Action: ActScreenshotsRead},

	// Devices.
	{Pattern: "GET /api/v1/devices", Action: ActDevicesRead},
	{Pattern: "GET /api/v1/devices/{id}", Action: ActDevicesRead, DeviceParam: "id"},
	{Pattern: "GET /api/v1/devices/{id}/screenshot", Action: ActScreenshotsRead, DeviceParam: "id"},
	{Pattern: "POST /api/v1/devices/register", Action: ActDevicesRegister, SelfAuth: true},
	{Pattern: "GET /api/v1/backends", Action: ActDevicesRead},
	{Pattern: "GET /api/v1/ws", Action: ActDevicesStream, Stream: true},
	{Pattern: "GET /api/v1/stream", Action: ActDevicesStream, Stream: true},
	{Pattern: "GET /api/v1/devices/stream", Action: ActDevicesStream, Stream: true},
	{Pattern: "GET /api/v1/events", Action: ActEventsRead, Stream: true},

	// Plugins and slices.
	{Pattern: "GET /api/v1/plugins", Action: ActPluginsRead},
	{Pattern: "GET /api/v1/plugins/{name}", Action: ActPluginsRead},
	{Pattern: "GET /api/v1/plugins/{name}/history", Action: ActPluginsRead},
	{Pattern: "POST /api/v1/plugins/{name}/{op}", Action: ActPluginsManage},
	{Pattern: "GET /api/v1/slices", Action: ActSlicesRead},
	// Cluster (issue 9): status for viewers, pushing a plugin for admins.
	{Pattern: "GET /api/v1/cluster", Action: ActSlicesRead},
	{Pattern: "POST /api/v1/plugins", Action: ActPluginsManage},

	// The API itself and the caller.
	{Pattern: "GET /api/v1/openapi.json", Action: ActAPIRead},
	{Pattern: "GET /api/v1/whoami", Action: ActWhoAmI},

	// Administration.
	{Pattern: "GET /api/v1/audit", Action: ActAuditRead},
	{Pattern: "POST /api/v1/tokens", Action: ActTokensCreate},
	{Pattern: "GET /api/v1/apikeys", Action: ActAPIKeysManage},
	{Pattern: "POST /api/v1/apikeys", Action: ActAPIKeysManage},
	{Pattern: "DELETE /api/v1/apikeys/{hash}", Action: ActAPIKeysManage},
}

// Routes returns a copy of the built-in route table.
func Routes() []Route { return append([]Route(nil), defaultRoutes...) }

// router classifies requests by Route.
type router struct {
	mux *http.ServeMux
}

// routeHandler marks a registered Route inside the classifying mux; it is
// never served.
type routeHandler struct{ route *Route }

func (routeHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// newRouter builds the classifier; a pattern that ServeMux refuses
// (malformed, or conflicting with another) is an error.
func newRouter(routes []Route) (rt *router, err error) {
	mux := http.NewServeMux()
	for i := range routes {
		r := &routes[i]
		if !r.Public && permissionTab[r.Action] == nil {
			return nil, fmt.Errorf("auth route %q: unknown action %q", r.Pattern, r.Action)
		}
		if err := handleSafely(mux, r); err != nil {
			return nil, err
		}
	}
	return &router{mux: mux}, nil
}

func handleSafely(mux *http.ServeMux, r *Route) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("auth route %q: %v", r.Pattern, v)
		}
	}()
	mux.Handle(r.Pattern, routeHandler{route: r})
	return nil
}

// match returns the route of req, or nil when none matches.
func (rt *router) match(req *http.Request) *Route {
	h, _ := rt.mux.Handler(req)
	if rh, ok := h.(routeHandler); ok {
		return rh.route
	}
	return nil
}

// pathParam returns the value of wildcard name of the route's pattern in
// the request path ("" when the pattern has no such wildcard).
func pathParam(pattern, path, name string) string {
	_, p, ok := strings.Cut(pattern, " ")
	if !ok {
		p = pattern
	}
	want := "{" + name + "}"
	ps := strings.Split(strings.Trim(p, "/"), "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range ps {
		if s == want && i < len(segs) {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return segs[i]
			}
			return v
		}
	}
	return ""
}

// RouteOf returns the route table's entry for r; ok is false when no
// route matches (the middleware then requires admin). Tests use it to
// check that every served endpoint is in the table.
func (a *Authenticator) RouteOf(r *http.Request) (Route, bool) {
	if rt := a.router.match(r); rt != nil {
		return *rt, true
	}
	return Route{}, false
}
