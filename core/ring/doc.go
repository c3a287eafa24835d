// Package ring is one vGPU slice's queue pair: a submission ring (SQ) and a
// completion ring (CQ) of fixed-size 64-byte command descriptors, plus a
// payload arena the descriptors point into by offset and length — an NVMe
// queue pair or io_uring, for inference commands.
//
// Two transports, one API. New builds a ring in Go memory for a consumer in
// the same process: its SQ and CQ carry Go values (a tag, a completion
// record), published a batch at a time with one atomic each way, and are
// not validated (the producer is the same program). Create builds it in a file under /dev/shm (the owner
// side, where producers submit); Open maps that file from another process
// (the consumer side, a model worker in Go, or in any language that follows
// docs/ring.md, such as examples/ring-consumer-python).
//
// Producer side (any number of goroutines):
//
//	r, err := ring.Create("/dev/shm/cloudphone-slice-a", ring.Options{Entries: 1024, ArenaMiB: 16, Wait: ring.WaitAdaptive})
//	comp, err := r.Call(ctx, ring.Command{ID: 7, Model: 1, Deadline: d.UnixNano(), Payload: req})
//	// or: r.Submit(ctx, cmds...) then n, err := r.Reap(ctx, comps)
//
// Consumer side (one Fetch caller; Complete from any goroutine):
//
//	w, err := ring.Open("/dev/shm/cloudphone-slice-a", ring.Options{Wait: ring.WaitPoll})
//	n, err := w.Fetch(ctx, cmds)
//	w.Complete(cmds[0].Reply(ring.StatusOK, result))
//
// A command holds one tag (an index 0..Entries-1) from Submit until its
// completion is reaped; the tag names its request chunk and result chunk in
// the arena, so the rings can never overflow and the arena needs no
// allocator shared across processes. The price: a payload or result is at
// most ChunkSize = arena / (2 × Entries) bytes (8 KiB with the defaults);
// size vgpu.arena_mib for the largest request. When every tag is taken, Submit waits
// for one while ctx lives (or returns ErrFull at once with
// Options.FailFast).
//
// On a shared ring every descriptor a consumer reads is validated (magic,
// version, kind, flags, tag, payload range); a malformed one never reaches
// Fetch's caller and is completed back with StatusMalformed. The owner
// validates completions the same way. Free tags, and the tags a consumer
// holds, are bitmaps: a batch takes or returns them with one atomic per 64.
//
// The owner watches the consumer (pid, heartbeat word, detach): when it dies
// or detaches, every command it fetched and did not complete is re-offered
// to the next consumer (Options.Requeue) or completed with
// StatusConsumerLost, so no request is lost and each gets exactly one
// completion.
//
// Consumers wait for work, and producers for completions, by polling
// (spin, yielding the goroutine and now and then the OS thread so an
// oversubscribed machine still runs the other side), sleeping (a futex on
// a doorbell word in the shared header; a producer only makes the wake
// syscall when a sleeper announced itself; an in-process ring parks the
// goroutine on a channel instead), or adaptively (spin for
// Options.SpinFor, then sleep); see WaitMode. The memory layout is in
// docs/ring.md.
//
// Locks: the owner side has one mutex (serializing the single CQ reader:
// Reap, Call's reaping, recovery), the consumer side one (serializing
// Fetch); neither is taken while holding the other. Everything else —
// claiming ring slots, tags, delivering to Call waiters — is atomics.
//
// What it is not: a scheduler. What enters a ring and when (EDF, slice
// budgets) is decided by core/vgpu and core/sched.
package ring
