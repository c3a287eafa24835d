package phone

import (
	"context"
	"io"
	"runtime"
	"testing"
)

// freshShot renders a screenshot bypassing the cache.
func freshShot(tb testing.TB, p *Phone) []byte {
	p.mu.Lock()
	p.w.changed()
	p.mu.Unlock()
	png, err := p.Screenshot()
	if err != nil {
		tb.Fatal(err)
	}
	return png
}

func BenchmarkScreencap1080x2400(b *testing.B) {
	p := New(Options{})
	must(b, p, "monkey -p com.tencent.mm 1")
	freshShot(b, p) // warm the glyph cache
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.SetBytes(int64(len(freshShot(b, p))))
	}
}

func BenchmarkRenderOnly1080x2400(b *testing.B) {
	p := New(Options{})
	must(b, p, "monkey -p com.taobao.taobao 1")
	p.Image()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Image()
	}
}

func BenchmarkUIDump(b *testing.B) {
	p := New(Options{})
	must(b, p, "monkey -p com.sankuai.meituan 1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Exec(context.Background(), "uiautomator dump /dev/tty", nil, io.Discard, io.Discard)
	}
}

func BenchmarkAgentStep(b *testing.B) {
	// What Open-AutoGLM asks per step: screenshot, current app, an action.
	p := New(Options{})
	must(b, p, "monkey -p com.tencent.mm 1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Exec(context.Background(), "screencap -p", nil, io.Discard, io.Discard)
		p.Exec(context.Background(), "dumpsys window", nil, io.Discard, io.Discard)
		if i%2 == 0 {
			p.Exec(context.Background(), "input tap 300 560", nil, io.Discard, io.Discard)
		} else {
			p.Exec(context.Background(), "input keyevent 4", nil, io.Discard, io.Discard)
		}
	}
}

// idleHeapPerPhone creates n phones, renders each once, drops every
// reference the test itself holds to frames, and returns live heap bytes
// per phone. The process-wide screenshot LRU is counted, amortised.
func idleHeapPerPhone(tb testing.TB, n, w, h int) (perPhone, withCache float64) {
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	phones := make([]*Phone, n)
	for i := range phones {
		phones[i] = New(Options{Width: w, Height: h, Serial: "sim-" + itoa(i)})
		must(tb, phones[i], "monkey -p com.tencent.mm 1; uiautomator dump")
		if _, err := phones[i].Screenshot(); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	withCache = float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / float64(n)
	DropScreenshotCache()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	perPhone = float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / float64(n)
	runtime.KeepAlive(phones)
	return perPhone, withCache
}

// TestIdlePhoneMemory is the quick guard of the < 2 MiB per idle phone
// budget; BenchmarkIdlePhones measures 1,000 full-size phones.
func TestIdlePhoneMemory(t *testing.T) {
	per, cached := idleHeapPerPhone(t, 40, 216, 480)
	t.Logf("idle phone: %.0f KiB (%.0f KiB with the screenshot LRU amortised)", per/1024, cached/1024)
	if per > 2<<20 || cached > 2<<20 {
		t.Fatalf("idle phone costs %.0f KiB", cached/1024)
	}
}

func BenchmarkIdlePhones(b *testing.B) {
	for i := 0; i < b.N; i++ {
		per, cached := idleHeapPerPhone(b, 1000, 1080, 2400)
		b.ReportMetric(per/1024, "KiB/idle-phone")
		b.ReportMetric(cached/1024, "KiB/idle-phone-with-lru")
	}
}
