package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDevices(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	devs := []Device{
		{ID: "sim/2", Backend: "device-sim", Tenant: "a", Labels: map[string]string{"model": "pixel"}, State: "idle"},
		{ID: "sim/1", Backend: "device-sim", Tenant: "b", State: "leased"},
	}
	for _, d := range devs {
		if err := s.UpsertDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpsertDevice(ctx, Device{ID: "sim/2", Backend: "device-sim", Tenant: "a", State: "offline"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListDevices(ctx, "")
	if err != nil || len(all) != 2 || all[0].ID != "sim/1" {
		t.Fatalf("list: %+v, %v", all, err)
	}
	if all[1].State != "offline" || all[1].Labels != nil || all[1].UpdatedAt.IsZero() {
		t.Errorf("upsert did not replace: %+v", all[1])
	}
	a, err := s.ListDevices(ctx, "a")
	if err != nil || len(a) != 1 || a[0].ID != "sim/2" {
		t.Errorf("tenant a: %+v, %v", a, err)
	}
	if err := s.UpsertDevice(ctx, Device{ID: "sim/3", Labels: map[string]string{"gpu": "yes"}}); err != nil {
		t.Fatal(err)
	}
	d, err := s.Device(ctx, "sim/3")
	if err != nil || !reflect.DeepEqual(d.Labels, map[string]string{"gpu": "yes"}) {
		t.Errorf("device: %+v, %v", d, err)
	}
	if _, err := s.Device(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing device: err = %v", err)
	}
	if err := s.UpsertDevice(ctx, Device{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty id: err = %v", err)
	}
}

func TestPluginHistory(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	entries := []PluginEvent{
		{Name: "planner-intent", Version: "1.0.0", SHA256: "aa", Action: "load"},
		{Name: "device-sim", Version: "0.3.0", Action: "load"},
		{Name: "planner-intent", Version: "1.1.0", SHA256: "bb", Action: "reject", Error: "validate: missing export plan"},
		{Name: "planner-intent", Version: "1.1.1", SHA256: "cc", Action: "reload"},
	}
	for _, e := range entries {
		got, err := s.AppendPluginEvent(ctx, e)
		if err != nil || got.Seq == 0 || got.Time.IsZero() {
			t.Fatalf("append %+v: %+v, %v", e, got, err)
		}
	}
	hist, err := s.PluginHistory(ctx, "planner-intent", 0)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %+v, %v", hist, err)
	}
	if hist[0].Version != "1.1.1" || hist[1].Error == "" || hist[2].Action != "load" {
		t.Errorf("history not newest first or fields lost: %+v", hist)
	}
	all, err := s.PluginHistory(ctx, "", 2)
	if err != nil || len(all) != 2 {
		t.Errorf("all, limit 2: %+v, %v", all, err)
	}
	if _, err := s.AppendPluginEvent(ctx, PluginEvent{Name: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no action: err = %v", err)
	}
}

func TestAPIKeys(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	const key = "cpk_0123456789abcdef0123456789abcdef"
	k, err := s.CreateAPIKey(ctx, key, APIKey{Subject: "ci-bot", Tenant: "acme", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Hash != HashAPIKey(key) || k.Hash == key {
		t.Fatalf("stored hash %q", k.Hash)
	}
	var plain int
	if err := s.rdb.QueryRow("SELECT COUNT(*) FROM api_keys WHERE hash = ? OR subject = ?", key, key).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("the plaintext key is stored (%d rows, %v)", plain, err)
	}
	got, err := s.LookupAPIKey(ctx, key)
	if err != nil || got.Subject != "ci-bot" || got.Tenant != "acme" || got.Role != "operator" {
		t.Fatalf("lookup: %+v, %v", got, err)
	}
	if _, err := s.LookupAPIKey(ctx, key+"x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("wrong key: err = %v", err)
	}
	if _, err := s.CreateAPIKey(ctx, key, APIKey{Subject: "again", Role: "viewer"}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate key: err = %v", err)
	}
	for _, bad := range []struct {
		key string
		k   APIKey
	}{{"short", APIKey{Subject: "a", Role: "viewer"}}, {key + "2", APIKey{Role: "viewer"}}, {key + "3", APIKey{Subject: "a"}}} {
		if _, err := s.CreateAPIKey(ctx, bad.key, bad.k); !errors.Is(err, ErrInvalid) {
			t.Errorf("create %+v: err = %v, want ErrInvalid", bad, err)
		}
	}

	// Last use: written once, then throttled for a minute.
	used := clock.Add(time.Hour)
	if err := s.TouchAPIKey(ctx, k.Hash, used); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAPIKey(ctx, k.Hash, used.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LookupAPIKey(ctx, key)
	if !got.LastUsedAt.Equal(used) {
		t.Errorf("last used %s, want %s (the second touch is throttled)", got.LastUsedAt, used)
	}
	if err := s.TouchAPIKey(ctx, k.Hash, used.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LookupAPIKey(ctx, key)
	if !got.LastUsedAt.Equal(used.Add(2 * time.Minute)) {
		t.Errorf("last used %s after a touch a minute later", got.LastUsedAt)
	}

	if err := s.RevokeAPIKey(ctx, k.Hash); err != nil {
		t.Fatal(err)
	}
	got, err = s.LookupAPIKey(ctx, key)
	if !errors.Is(err, ErrRevoked) || !got.Revoked() {
		t.Errorf("revoked key: %+v, %v", got, err)
	}
	if err := s.RevokeAPIKey(ctx, HashAPIKey("unknown")); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke unknown: err = %v", err)
	}
	if _, err := s.CreateAPIKey(ctx, key+"-other", APIKey{Subject: "b", Tenant: "other", Role: "viewer"}); err != nil {
		t.Fatal(err)
	}
	acme, err := s.ListAPIKeys(ctx, "acme")
	if err != nil || len(acme) != 1 || !acme[0].Revoked() {
		t.Errorf("acme keys: %+v, %v", acme, err)
	}
	if all, _ := s.ListAPIKeys(ctx, ""); len(all) != 2 {
		t.Errorf("all keys: %d, want 2", len(all))
	}
}
