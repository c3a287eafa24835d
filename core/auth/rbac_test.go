package auth

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAllowedRolesByActions(t *testing.T) {
	// a, o, v: whether admin, operator, viewer may.
	want := map[Action][3]bool{
		ActTasksRead:       {true, true, true},
		ActDevicesRead:     {true, true, true},
		ActDevicesStream:   {true, true, true},
		ActScreenshotsRead: {true, true, true},
		ActPluginsRead:     {true, true, true},
		ActSlicesRead:      {true, true, true},
		ActEventsRead:      {true, true, true},
		ActAPIRead:         {true, true, true},
		ActWhoAmI:          {true, true, true},
		ActTasksRun:        {true, true, false},
		ActTasksCancel:     {true, true, false},
		ActTasksConfirm:    {true, true, false},
		ActTasksResume:     {true, true, false},
		ActDevicesRegister: {true, true, false},
		ActPluginsManage:   {true, false, false},
		ActAuditRead:       {true, false, false},
		ActTokensCreate:    {true, false, false},
		ActAPIKeysManage:   {true, false, false},
		ActOtherTenant:     {true, false, false},
		ActAdmin:           {true, false, false},
	}
	if len(want) != len(Actions()) {
		t.Fatalf("the test covers %d actions, the table has %d: %v", len(want), len(Actions()), Actions())
	}
	for _, a := range Actions() {
		w, ok := want[a]
		if !ok {
			t.Errorf("action %s is not covered by this test", a)
			continue
		}
		for i, r := range Roles {
			if got := Allowed(r, a); got != w[i] {
				t.Errorf("Allowed(%s, %s) = %v, want %v", r, a, got, w[i])
			}
			err := Principal{Subject: "s", Tenant: "t", Role: r, Kind: KindUser}.Authorize(a)
			if (err == nil) != w[i] || err != nil && !errors.Is(err, ErrForbidden) {
				t.Errorf("Authorize(%s, %s) = %v", r, a, err)
			}
		}
	}
	if Allowed("root", ActTasksRead) || Allowed(RoleAdmin, "format.disk") {
		t.Error("an unknown role or action was allowed")
	}
}

func TestDevicePrincipalLimits(t *testing.T) {
	p := Principal{Subject: "dev1", Tenant: "t", Role: RoleOperator, Kind: KindDevice, Device: "dev1"}
	for _, a := range []Action{ActDevicesRead, ActDevicesStream, ActScreenshotsRead, ActTasksRead, ActWhoAmI} {
		if err := p.Authorize(a); err != nil {
			t.Errorf("device token may not %s: %v", a, err)
		}
	}
	for _, a := range []Action{ActTasksRun, ActTasksCancel, ActDevicesRegister, ActTokensCreate} {
		if err := p.Authorize(a); !errors.Is(err, ErrForbidden) {
			t.Errorf("device token may %s (err %v)", a, err)
		}
	}
	if !p.CanUseDevice("dev1") || p.CanUseDevice("dev2") {
		t.Error("device token not limited to its device")
	}
	if !(Principal{Role: RoleViewer, Kind: KindUser}).CanUseDevice("dev2") {
		t.Error("a user is limited to a device")
	}
}

func TestTenantIsolation(t *testing.T) {
	cases := []struct {
		role      Role
		requested string
		want      string
		forbidden bool
	}{
		{RoleViewer, "", "a", false},
		{RoleOperator, "a", "a", false},
		{RoleOperator, "b", "", true},
		{RoleViewer, "b", "", true},
		{RoleAdmin, "b", "b", false},
		{RoleAdmin, "", "a", false},
	}
	for _, c := range cases {
		p := Principal{Subject: "s", Tenant: "a", Role: c.role, Kind: KindUser}
		got, err := p.TenantFor(c.requested)
		if c.forbidden != errors.Is(err, ErrForbidden) || got != c.want {
			t.Errorf("%s TenantFor(%q) = %q, %v", c.role, c.requested, got, err)
		}
		if p.CanSee("a") != true || p.CanSee("b") != (c.role == RoleAdmin) {
			t.Errorf("%s of tenant a: CanSee(a)=%v CanSee(b)=%v", c.role, p.CanSee("a"), p.CanSee("b"))
		}
	}
	if _, err := (Principal{Role: RoleAdmin, Tenant: "a"}).TenantFor("b/../c"); err == nil {
		t.Error("an admin named a malformed tenant")
	}
}

func TestRoutesClassify(t *testing.T) {
	rt, err := newRouter(Routes())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path string
		want         Action
		public       bool
	}{
		{"GET", "/healthz", "", true},
		{"GET", "/readyz", "", true},
		{"GET", "/metrics", "", true},
		{"GET", "/", "", true},
		{"HEAD", "/", "", true},
		{"GET", "/assets/app.js", "", true},
		{"POST", "/", ActAdmin, false},
		{"GET", "/nowhere", ActAdmin, false},
		{"POST", "/api/v1/run", ActTasksRun, false},
		{"GET", "/api/v1/run", ActAdmin, false},
		{"GET", "/api/v1/tasks", ActTasksRead, false},
		{"GET", "/api/v1/tasks/t1", ActTasksRead, false},
		{"GET", "/api/v1/tasks/t1/events", ActTasksRead, false},
		{"POST", "/api/v1/tasks/t1/cancel", ActTasksCancel, false},
		{"POST", "/api/v1/tasks/t1/confirm", ActTasksConfirm, false},
		{"POST", "/api/v1/tasks/t1/resume", ActTasksResume, false},
		{"GET", "/api/v1/devices", ActDevicesRead, false},
		{"GET", "/api/v1/devices/d1/screenshot", ActScreenshotsRead, false},
		{"POST", "/api/v1/devices/register", ActDevicesRegister, false},
		{"GET", "/api/v1/plugins", ActPluginsRead, false},
		{"POST", "/api/v1/plugins/model-openai/reload", ActPluginsManage, false},
		{"GET", "/api/v1/slices", ActSlicesRead, false},
		{"GET", "/api/v1/audit", ActAuditRead, false},
		{"POST", "/api/v1/tokens", ActTokensCreate, false},
		{"DELETE", "/api/v1/apikeys/abc", ActAPIKeysManage, false},
		{"GET", "/api/v1/tasks/../audit", ActAdmin, false}, // ServeMux redirects; never a viewer's
	}
	for _, c := range cases {
		r := rt.match(httptest.NewRequest(c.method, c.path, nil))
		var got Action
		public := false
		if r == nil {
			got = ActAdmin
		} else {
			got, public = r.Action, r.Public
		}
		if got != c.want || public != c.public {
			t.Errorf("%s %s: action %q public %v, want %q %v", c.method, c.path, got, public, c.want, c.public)
		}
	}
}

func TestRoutesRefuseBadTables(t *testing.T) {
	for _, routes := range [][]Route{
		{{Pattern: "GET /x", Action: "nope"}},
		{{Pattern: "GET /x", Action: ActTasksRead}, {Pattern: "GET /x", Action: ActTasksRead}},
		{{Pattern: "GET /{", Action: ActTasksRead}},
	} {
		if _, err := newRouter(routes); err == nil || !strings.Contains(err.Error(), "auth route") {
			t.Errorf("newRouter(%v) = %v, want an error naming the route", routes, err)
		}
	}
}

func TestPathParam(t *testing.T) {
	cases := []struct{ pattern, path, want string }{
		{"GET /api/v1/devices/{id}", "/api/v1/devices/d1", "d1"},
		{"GET /api/v1/devices/{id}/screenshot", "/api/v1/devices/a%2Fb/screenshot", "a/b"},
		{"GET /api/v1/devices", "/api/v1/devices", ""},
	}
	for _, c := range cases {
		if got := pathParam(c.pattern, c.path, "id"); got != c.want {
			t.Errorf("pathParam(%q, %q) = %q, want %q", c.pattern, c.path, got, c.want)
		}
	}
}
