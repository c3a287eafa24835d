package cache

import (
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestObservations(t *testing.T) {
	o, err := NewObservations(ObservationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	screen := func(ui, app string) *cpv1.Observation {
		return &cpv1.Observation{UiXml: ui, CurrentApp: app, Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}
	}
	steps := []struct {
		device      string
		obs         *cpv1.Observation
		wantChanged bool
	}{
		{"d1", screen("<launcher/>", "launcher"), true}, // first look
		{"d1", screen("<launcher/>", "launcher"), false},
		{"d2", screen("<launcher/>", "launcher"), true}, // devices are apart
		{"d1", screen("<settings/>", "settings"), true},
		{"d1", screen("<settings/>", "settings"), false},
		{"d1", nil, true},
	}
	for i, s := range steps {
		if got := o.Record(s.device, s.obs); got != s.wantChanged {
			t.Fatalf("step %d (%s): changed = %v, want %v", i, s.device, got, s.wantChanged)
		}
		o.Wait()
	}
	o.Record("d1", screen("<settings/>", "settings"))
	o.Wait()
	seen, ok := o.Last("d1")
	if !ok || seen.CurrentApp != "settings" || seen.Width != 1080 || time.Since(seen.At) > time.Minute {
		t.Fatalf("Last = %+v, %v", seen, ok)
	}
	o.Forget("d1")
	o.Wait()
	if _, ok := o.Last("d1"); ok {
		t.Fatal("Last after Forget hit")
	}
	if s := o.Stats(); s.Hits == 0 || s.Misses == 0 || s.MaxCost != DefaultObservationDevices {
		t.Fatalf("stats %+v", s)
	}
}
