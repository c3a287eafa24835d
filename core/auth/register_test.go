package auth

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	opKey, _, err := f.a.CreateAPIKey(ctx, APIKeySpec{Subject: "fleet-bot", Tenant: "acme", Role: RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	viewKey, _, err := f.a.CreateAPIKey(ctx, APIKeySpec{Subject: "dash", Tenant: "acme", Role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	admin := "Bearer " + f.token(t, TokenSpec{Role: RoleAdmin})
	device := "Bearer " + f.token(t, TokenSpec{Role: RoleOperator, Kind: KindDevice, Subject: "d0", Device: "d0"})
	const path = "/api/v1/devices/register"
	cases := []struct {
		name, auth, body string
		want             int
		tenant           string
	}{
		{"operator api key", "Bearer " + opKey, `{"device_id":"phone-1"}`, 200, "acme"},
		{"admin token for another tenant", admin, `{"device_id":"phone-2","tenant":"beta"}`, 200, "beta"},
		{"registration secret", "", `{"device_id":"phone-3","secret":"s3cret-registration"}`, 200, "default"},
		{"no credentials", "", `{"device_id":"phone-4"}`, 401, ""},
		{"wrong secret", "", `{"device_id":"phone-4","secret":"guess"}`, 401, ""},
		{"bad token", "Bearer abc.def.ghi", `{"device_id":"phone-4"}`, 401, ""},
		{"unknown api key", "Bearer cp_" + strings.Repeat("B", 43), `{"device_id":"phone-4"}`, 401, ""},
		{"viewer api key", "Bearer " + viewKey, `{"device_id":"phone-4"}`, 403, ""},
		{"device token", device, `{"device_id":"phone-4"}`, 403, ""},
		{"operator for another tenant", "Bearer " + opKey, `{"device_id":"phone-4","tenant":"beta"}`, 403, ""},
		{"secret for another tenant", "", `{"device_id":"phone-4","secret":"s3cret-registration","tenant":"beta"}`, 403, ""},
		{"unknown field", "Bearer " + opKey, `{"device_id":"phone-4","role":"admin"}`, 400, ""},
		{"no device id", "Bearer " + opKey, `{}`, 400, ""},
		{"pool device id", "Bearer " + opKey, `{"device_id":"sim/phone-5"}`, 200, "acme"},
		{"bad device id", "Bearer " + opKey, `{"device_id":"../etc"}`, 400, ""},
		{"empty device id segment", "Bearer " + opKey, `{"device_id":"sim//x"}`, 400, ""},
		{"two objects", "Bearer " + opKey, `{"device_id":"a"}{}`, 400, ""},
		{"not json", "Bearer " + opKey, `device_id=a`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.do("POST", path, c.auth, c.body)
			if rec.Code != c.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, c.want)
			}
			if c.want != 200 {
				if errorCode(t, rec) == "" {
					t.Fatalf("no JSON error: %s", rec.Body)
				}
				return
			}
			var resp RegisterResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			p, err := f.a.Verifier().Verify(resp.Token)
			if err != nil {
				t.Fatal(err)
			}
			var req RegisterRequest
			_ = json.Unmarshal([]byte(c.body), &req)
			if p.Kind != KindDevice || p.Role != RoleOperator || p.Device != req.DeviceID || p.Tenant != c.tenant ||
				resp.Tenant != c.tenant || resp.DeviceID != req.DeviceID || !resp.ExpiresAt.Equal(t0.Add(24*60*60e9)) {
				t.Fatalf("device token %+v, response %+v", p, resp)
			}
			// The device token works on its own device only.
			if rec := f.do("GET", "/api/v1/devices/"+url.PathEscape(req.DeviceID)+"/screenshot", "Bearer "+resp.Token, ""); rec.Code != 200 {
				t.Fatalf("device token on its device: %d %s", rec.Code, rec.Body)
			}
			if rec := f.do("GET", "/api/v1/devices/other/screenshot", "Bearer "+resp.Token, ""); rec.Code != 404 {
				t.Fatalf("device token on another device: %d", rec.Code)
			}
		})
	}
	// Registrations are audited: successes and refusals by a known caller.
	var ok, denied int
	for _, e := range f.audit.all() {
		if e.Action != string(ActDevicesRegister) {
			continue
		}
		switch e.Result {
		case "ok":
			ok++
		case "denied":
			denied++
		}
	}
	if ok != 4 || denied < 2 {
		t.Fatalf("audit: %d registrations ok, %d denied; want 4 and ≥ 2", ok, denied)
	}
	// No secret configured: secrets are refused as bad credentials.
	g := newFixture(t, func(o *Options) { o.RegistrationSecret = "" })
	if rec := g.do("POST", path, "", `{"device_id":"p","secret":"anything"}`); rec.Code != 401 {
		t.Fatalf("secret with none configured: %d", rec.Code)
	}
	if rec := g.do("GET", path, "", ""); rec.Code == 200 {
		t.Fatal("GET registered")
	}
}
