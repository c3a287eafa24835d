package main

import (
	"context"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BenchmarkObserve is the plugin's Observe in process (no gRPC): the
// screenshot, dump and current app of a screen that changes every step
// (fresh render) or not (cached PNG).
func BenchmarkObserve(b *testing.B) {
	s := newSim(quietLog)
	b.Cleanup(s.Close)
	ctx := context.Background()
	if err := s.Configure(ctx, []byte(`{"count": 1, "listen": "127.0.0.1:0"}`)); err != nil {
		b.Fatal(err)
	}
	list, err := s.List(ctx, &cpv1.ListRequest{})
	if err != nil {
		b.Fatal(err)
	}
	id := list.GetDevices()[0].GetId()
	d, _ := s.device(ctx, id)
	d.Phone.Exec(ctx, "monkey -p com.android.settings -c android.intent.category.LAUNCHER 1", nil, nil, nil)
	req := &cpv1.ObserveRequest{DeviceId: id}
	b.Run("screen=static", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Observe(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("screen=changing", func(b *testing.B) {
		for b.Loop() {
			// Enter or leave recents: the next screenshot is rendered afresh.
			d.Phone.Exec(ctx, "input keyevent KEYCODE_APP_SWITCH", nil, nil, nil)
			if _, err := s.Observe(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
