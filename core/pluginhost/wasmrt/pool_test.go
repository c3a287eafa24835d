package wasmrt

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// request4KiB is a PlanRequest whose UI tree is 4 KiB.
func request4KiB() *cpv1.PlanRequest {
	req := screenReq("open settings", 1)
	const node = `<node text="设置" bounds="[0,0][1080,200]"/>`
	xml := strings.Repeat(node, 4096/len(node))
	req.Observation.UiXml = xml + strings.Repeat(" ", 4096-len(xml))
	return req
}

func TestConcurrentCalls(t *testing.T) {
	r := newTestRuntime(t, Options{})
	m := loadTest(t, r, helloDir, "")
	ctx := context.Background()
	const workers = 16
	deadline := time.Now().Add(time.Second)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		calls int
		errs  []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := request4KiB()
			req.Step = int32(w%2 + 1)
			n := 0
			for n < 20 || time.Now().Before(deadline) {
				resp, err := m.Plan(ctx, req)
				if err == nil && (resp.GetAction() == nil) == (req.Step == 1) {
					err = errUnexpected(resp)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				n++
			}
			mu.Lock()
			calls += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d workers failed; first: %v", len(errs), errs[0])
	}
	st := m.Stats()
	t.Logf("%d calls from %d goroutines; stats %+v", calls, workers, st)
	if st.Instances > r.Options().PoolSize || st.Trapped != 0 {
		t.Errorf("Stats = %+v, pool size %d", st, r.Options().PoolSize)
	}
}

type unexpected struct{ resp *cpv1.PlanResponse }

func (e unexpected) Error() string { return "unexpected response " + e.resp.String() }

func errUnexpected(resp *cpv1.PlanResponse) error { return unexpected{resp} }

func TestRecyclingBoundsMemory(t *testing.T) {
	const calls = 3000
	r := newTestRuntime(t, Options{MaxCallsPerInstance: 1000, PoolSize: 1})
	m := loadTest(t, r, helloDir, "")
	ctx := context.Background()
	req := request4KiB()
	for i := range calls {
		if _, err := m.Plan(ctx, req); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	st := m.Stats()
	t.Logf("after %d calls: %+v", calls, st)
	if st.Recycled < 2 || st.Instances != 1 {
		t.Errorf("Stats = %+v, want at least 2 recycled and 1 live instance", st)
	}
	if st.MaxMemoryBytes > 64<<20 {
		t.Errorf("instance memory reached %d MiB", st.MaxMemoryBytes>>20)
	}

	// An instance past MaxInstanceMemoryMiB is recycled after its call.
	r2 := newTestRuntime(t, Options{MaxInstanceMemoryMiB: 1})
	m2 := loadTest(t, r2, helloDir, "")
	for range 3 {
		if _, err := m2.Plan(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if st := m2.Stats(); st.Recycled < 3 {
		t.Errorf("Stats = %+v, want every call recycled with a 1 MiB threshold", st)
	}
}
