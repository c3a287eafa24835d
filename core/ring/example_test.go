package ring_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/openautoglm/cloudphone/core/ring"
)

// An in-process ring: a consumer goroutine answers commands, a producer
// calls it. Over shared memory the consumer would be another process with
// ring.Open, and the producer would use ring.Create.
func Example() {
	r, err := ring.New(ring.Options{Entries: 64, ArenaMiB: 1, Wait: ring.WaitAdaptive})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { // the consumer: one Fetch loop
		defer close(done)
		cmds := make([]ring.Command, 16)
		for {
			n, err := r.Fetch(ctx, cmds)
			if err != nil {
				return // ctx canceled or ring closed
			}
			comps := make([]ring.Completion, 0, n)
			for _, c := range cmds[:n] {
				comps = append(comps, c.Reply(ring.StatusOK, bytes.ToUpper(c.Payload)))
			}
			if err := r.Complete(comps...); err != nil {
				fmt.Println(err)
				return
			}
		}
	}()

	c, err := r.Call(context.Background(), ring.Command{ID: 1, Model: 7, Payload: []byte("tap 540 1200")})
	fmt.Printf("%d %s %q %v\n", c.ID, c.Status, c.Result, err)
	stop()
	<-done
	// Output: 1 ok "TAP 540 1200" <nil>
}
