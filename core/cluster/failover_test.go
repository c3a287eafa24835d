package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// childEnv carries a child node's configuration (see TestHelperNodeProcess).
const childEnv = "CLOUDPHONE_CLUSTER_TEST_CHILD"

type childConfig struct {
	URL       string        `json:"url"`
	Node      string        `json:"node"`
	Devices   int           `json:"devices"`
	AckWait   time.Duration `json:"ack_wait"`
	DeviceTTL time.Duration `json:"device_ttl"`
	Submit    []string      `json:"submit"`
	// Slow makes the handler take 150-300ms, so that the node certainly
	// holds tasks when it is killed.
	Slow bool `json:"slow"`
}

// simHandler runs a task for a random short time (20-80ms, or 150-300ms
// when slow), as a phone would.
func simHandler(runs *atomic.Int64, slow bool) Handler {
	return func(ctx context.Context, t Task) error {
		runs.Add(1)
		d := time.Duration(20+rand.IntN(60)) * time.Millisecond
		if slow {
			d = time.Duration(150+rand.IntN(150)) * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
}

// TestHelperNodeProcess is not a test: it is a cluster node run in a child
// process by TestNodeFailover, so that the node can be killed with SIGKILL.
// It exits when its stdin closes (the parent went away).
func TestHelperNodeProcess(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("helper process for TestNodeFailover")
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("child config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := Open(ctx, Options{NodeID: cfg.Node, NATSURL: cfg.URL, Devices: newFleet(cfg.Node, cfg.Devices, nil).Devices,
		AckWait: cfg.AckWait, DeviceTTL: cfg.DeviceTTL, Logger: testLogger()})
	if err != nil {
		t.Fatalf("child node: %v", err)
	}
	defer n.Close()
	var runs atomic.Int64
	go func() { _ = n.Run(ctx, simHandler(&runs, cfg.Slow)) }()
	for _, id := range cfg.Submit {
		if _, err := n.Submit(ctx, Task{ID: id, Tenant: "acme"}); err != nil {
			t.Fatalf("child submit %s: %v", id, err)
		}
	}
	fmt.Println("ready")
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		cancel()
	}()
	<-ctx.Done()
}

// startChildNode runs a node in a child process (this test binary again).
func startChildNode(t *testing.T, cfg childConfig) *exec.Cmd {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNodeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child node: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				ready <- nil
				for sc.Scan() {
				}
				return
			}
		}
		ready <- fmt.Errorf("child node exited before it was ready")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("child node not ready after 30s")
	}
	return cmd
}

// taskWatch follows the task events of the whole cluster on plain NATS.
type taskWatch struct {
	mu       sync.Mutex
	started  map[string]map[string]int // node → task → starts
	finished map[string]map[string]int // node → task → ends
}

func watchTasks(t *testing.T, nc *nats.Conn) *taskWatch {
	w := &taskWatch{started: map[string]map[string]int{}, finished: map[string]map[string]int{}}
	sub, err := nc.Subscribe(subjTaskEvents+".>", func(m *nats.Msg) {
		var ev Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		bucket := w.finished
		if ev.Type == "started" {
			bucket = w.started
		} else if ev.Type == "queued" {
			return
		}
		if bucket[ev.Node] == nil {
			bucket[ev.Node] = map[string]int{}
		}
		bucket[ev.Node][ev.ID]++
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return w
}

// inFlight lists the tasks node started and has not finished.
func (w *taskWatch) inFlight(node string) (finished int, running []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.started[node] {
		if w.finished[node][id] == 0 {
			running = append(running, id)
		}
	}
	return len(w.finished[node]), running
}

// TestNodeFailover: three NATS servers in a JetStream cluster, three nodes
// with four simulated phones each (one in a child process), 300 tasks
// submitted across them; the child is killed with SIGKILL mid-run. Every
// task must complete exactly once, the tasks the dead node held must be
// finished by the others after the ack wait, and its phones must leave the
// registry within the device TTL.
func TestNodeFailover(t *testing.T) {
	const (
		total   = 300
		ackWait = 2 * time.Second
		ttl     = 2 * time.Second
	)
	cl := startCluster(t, 3)
	var runs [2]atomic.Int64
	nodes := make([]*Node, 2)
	for i := range nodes {
		id := fmt.Sprintf("n%d", i+1)
		nodes[i] = openNode(t, Options{NodeID: id, NATSURL: cl.URL(), Devices: newFleet(id, 4, nil).Devices,
			AckWait: ackWait, DeviceTTL: ttl})
	}
	w := watchTasks(t, nodes[0].Conn())
	for i, n := range nodes {
		runNode(t, n, simHandler(&runs[i], false))
	}
	ids := make([]string, total)
	for i := range ids {
		ids[i] = fmt.Sprintf("task-%03d", i)
	}
	child := startChildNode(t, childConfig{URL: cl.URL(), Node: "n3", Devices: 4, AckWait: ackWait, DeviceTTL: ttl,
		Submit: ids[200:], Slow: true})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, id := range ids[:200] {
		if _, err := nodes[i%2].Submit(ctx, Task{ID: id, Tenant: "acme"}); err != nil {
			t.Fatal(err)
		}
	}
	devs, err := nodes[0].Devices(ctx)
	if err != nil || len(devs) != 12 {
		t.Fatalf("registry before the kill: %d devices, %v", len(devs), err)
	}

	// Kill n3 once it has done some work and holds tasks.
	var held []string
	waitFor(t, 30*time.Second, func() error {
		done, running := w.inFlight("n3")
		if done < 8 || len(running) == 0 {
			return fmt.Errorf("n3 finished %d tasks and runs %d", done, len(running))
		}
		if err := child.Process.Kill(); err != nil {
			t.Fatalf("kill n3: %v", err)
		}
		_, held = w.inFlight("n3")
		return nil
	})
	// Wait reaps it: from here on n3 is certainly dead.
	if err := child.Wait(); err == nil {
		t.Fatal("n3 exited cleanly instead of being killed")
	}
	killed := time.Now()
	t.Logf("n3 killed holding %d tasks", len(held))

	// Its phones leave the registry within the TTL (plus the polling
	// slack: the first listing without them starts at most one poll and
	// one listing after they left).
	var gone time.Duration
	waitFor(t, ttl+time.Second, func() error {
		at := time.Since(killed)
		devs, err := nodes[0].Devices(ctx)
		if err != nil {
			return err
		}
		for _, d := range devs {
			if d.Node == "n3" {
				return fmt.Errorf("device %s of n3 still listed %s after the kill (last heartbeat %s before the kill)",
					d.ID, time.Since(killed), killed.Sub(d.Updated))
			}
		}
		if len(devs) != 8 {
			return fmt.Errorf("%d devices listed, want 8", len(devs))
		}
		gone = at
		return nil
	})
	if gone > ttl+250*time.Millisecond {
		t.Errorf("n3's devices left the registry %s after the kill, TTL %s", gone, ttl)
	}
	// The server expires the records too (bucket MaxAge), not only the
	// clients' view.
	waitFor(t, ttl+2*time.Second, func() error {
		keys, err := nodes[0].registryKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if strings.HasPrefix(k, "n3.") {
				return fmt.Errorf("bucket still holds %s", k)
			}
		}
		return nil
	})
	t.Logf("n3's devices gone from the listing %s after the kill, from the bucket %s after", gone.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	// Every task completes exactly once.
	byNode := map[string]int{}
	for _, id := range ids {
		c, err := nodes[1].Wait(ctx, id)
		if err != nil {
			t.Fatalf("task %s: %v", id, err)
		}
		if c.State != StateSucceeded {
			t.Errorf("task %s: %+v", id, c)
		}
		byNode[c.Node]++
	}
	// The tasks n3 held when it died were finished by n1 or n2 on a later
	// attempt, except any n3 completed in the instant before the kill
	// whose final event the test had not seen yet.
	redelivered := 0
	for _, id := range held {
		c, _ := nodes[0].Completed(ctx, id)
		switch {
		case c.Node != "n3" && c.Attempt >= 2:
			redelivered++
		case c.Node == "n3" && c.Attempt == 1:
		default:
			t.Errorf("task %s held by the dead node: completion %+v", id, c)
		}
	}
	// Whatever the events showed at the kill, n3 was running tasks when
	// it died (its handler is slow, the queue was full): some task must
	// have been finished by another node on a later attempt.
	later := 0
	for _, id := range ids {
		if c, _ := nodes[0].Completed(ctx, id); c.Node != "n3" && c.Attempt >= 2 {
			later++
		}
	}
	if later == 0 {
		t.Errorf("no task was redelivered after n3 died (it held %v by the events)", held)
	}
	// Events are published asynchronously: wait until each task has its
	// final event, then require exactly one.
	var finals map[string]int
	waitFor(t, 10*time.Second, func() error {
		finals = countFinalEvents(t, nodes[0], ids)
		for _, id := range ids {
			if finals[id] == 0 {
				return fmt.Errorf("task %s has no final event yet", id)
			}
		}
		return nil
	})
	for _, id := range ids {
		if finals[id] != 1 {
			t.Errorf("task %s has %d succeeded/failed events, want exactly 1", id, finals[id])
		}
	}
	waitFor(t, 5*time.Second, func() error {
		st, err := nodes[0].Status(ctx)
		if err != nil {
			return err
		}
		if st.QueueDepth != 0 || len(st.Nodes) != 2 || st.Replicas != 3 || st.Leader == "" {
			return fmt.Errorf("status %+v, want an empty R3 queue, a leader and the two live nodes", st)
		}
		return nil
	})
	t.Logf("completions by node: %v; handler runs n1=%d n2=%d; held by n3 at the kill: %d (%d of them redelivered); completed on a later attempt: %d",
		byNode, runs[0].Load(), runs[1].Load(), len(held), redelivered, later)
	if byNode["n1"] == 0 || byNode["n2"] == 0 || byNode["n3"] == 0 {
		t.Errorf("work did not spread over the three nodes: %v", byNode)
	}
}

// countFinalEvents reads the events stream from its start and counts the
// final (succeeded or failed) events of each task.
func countFinalEvents(t *testing.T, n *Node, ids []string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info, err := n.js.Stream(ctx, streamEvents)
	if err != nil {
		t.Fatal(err)
	}
	last := info.CachedInfo().State.LastSeq
	out := make(map[string]int, len(ids))
	var seq uint64
	for tries := 0; seq < last; {
		// A consumer may be refused while a leader moves: start a new
		// one after the last event read.
		cons, err := n.js.OrderedConsumer(ctx, streamEvents, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{subjTaskEvents + ".>"}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: seq + 1})
		var it jetstream.MessagesContext
		if err == nil {
			it, err = cons.Messages()
		}
		if err == nil {
			stop := context.AfterFunc(ctx, it.Stop)
			for seq < last {
				var msg jetstream.Msg
				if msg, err = it.Next(); err != nil {
					break
				}
				var ev Event
				if err := json.Unmarshal(msg.Data(), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Type == StateSucceeded || ev.Type == StateFailed {
					out[ev.ID]++
				}
				meta, _ := msg.Metadata()
				seq = meta.Sequence.Stream
			}
			stop()
			it.Stop()
		}
		if err != nil {
			if tries++; tries > 5 {
				t.Fatalf("read events after %d: %v", seq, err)
			}
			t.Logf("read events after %d: %v (retrying)", seq, err)
			time.Sleep(200 * time.Millisecond)
		}
	}
	return out
}
