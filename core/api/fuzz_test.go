package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/core/auth"
)

// checkStrictDecode is the property of every request decoder: a body is
// accepted only when it is one valid JSON value (an object of known
// fields, or empty when allowed), an accepted body re-encodes to one the
// decoder accepts again with the same result, and a refusal is a bad
// request naming the problem, never a panic.
func checkStrictDecode[T any](t *testing.T, body []byte, emptyOK bool) {
	var v T
	err := decodeStrict(bytes.NewReader(body), &v, emptyOK)
	if err != nil {
		if !errors.Is(err, errBadRequest) || !strings.HasPrefix(err.Error(), "bad request: ") {
			t.Fatalf("refusal %v is not a bad request", err)
		}
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if !emptyOK {
			t.Fatal("accepted an empty body")
		}
		return
	}
	if !json.Valid(bytes.TrimSpace(body)) {
		t.Fatalf("accepted invalid JSON %q", body)
	}
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var again T
	if err := decodeStrict(bytes.NewReader(enc), &again, emptyOK); err != nil {
		t.Fatalf("re-encoded %s refused: %v", enc, err)
	}
	if !reflect.DeepEqual(v, again) {
		t.Fatalf("round trip changed %+v into %+v", v, again)
	}
}

// FuzzDecodeRunRequest fuzzes the decoder of POST /api/v1/run bodies.
func FuzzDecodeRunRequest(f *testing.F) {
	for _, s := range []string{
		`{"instruction":"open settings"}`,
		`{"instruction":"x","device_id":"device-sim/p1","deadline_ms":5000,"tenant":"a","planner":"intent","priority":2,"max_steps":10}`,
		`{"instruction":"x","unknown":1}`,
		`{"instruction":"x"} {"instruction":"y"}`,
		`{"instruction":"x"}garbage`,
		`{"deadline_ms":1e400}`,
		`{"priority":"high"}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkStrictDecode[RunRequest](t, body, false) })
}

// FuzzDecodeConfirmRequest fuzzes the decoder of confirm bodies.
func FuzzDecodeConfirmRequest(f *testing.F) {
	for _, s := range []string{`{"approve":true}`, `{"approve":false}`, `{"approve":null}`, `{"approve":1}`, `{}`, `{"Approve":true}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkStrictDecode[ConfirmRequest](t, body, false) })
}

// FuzzRunHandler posts arbitrary bodies to POST /api/v1/run of a fully
// wired server as an operator: only the documented statuses come back,
// each error as a JSON error body, never a 500; an accepted task is the
// caller's tenant's.
func FuzzRunHandler(f *testing.F) {
	for _, s := range []string{
		`{"instruction":"open settings"}`,
		`{"instruction":"open settings","tenant":"b"}`,
		`{"instruction":"open settings","tenant":"a","deadline_ms":1}`,
		`{"instruction":"","max_steps":-1}`,
		`{"instruction":"x","planner":"../../etc/passwd"}`,
		`{"instruction":"x","device_id":"phones/b1"}`,
		`{"instruction":"` + strings.Repeat("é", 3000) + `"}`,
		`{"instruction":"x","priority":99999999999}`,
	} {
		f.Add([]byte(s))
	}
	e := newSecEnv(f)
	op := e.token(f, auth.RoleOperator, "a")
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/run", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+op)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusAccepted, http.StatusOK:
			var task struct{ Tenant string }
			if err := json.Unmarshal(rec.Body.Bytes(), &task); err != nil || task.Tenant != "a" {
				t.Fatalf("accepted %s: %s (%v)", body, rec.Body, err)
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge,
			http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusServiceUnavailable:
			var eb ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
				t.Fatalf("%d without a JSON error: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
