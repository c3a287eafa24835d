package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Create builds a ring in a new shared-memory file at path (normally under
// /dev/shm) and returns its owner side: Submit, Call and Reap. A consumer
// in another process attaches with Open. The file must not exist; Close
// removes it; a ring file left by an owner that died is replaced. The owner watches the consumer and recovers its unfinished
// commands when it dies or detaches (Options.Requeue).
func Create(path string, opts Options) (*Ring, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("create ring %s: %w", path, err)
	}
	g := newGeometry(o.Entries, o.ArenaBytes)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) && staleRing(path) {
		o.Logger.Info("ring: replacing a ring whose owner exited", "path", path)
		if rmErr := os.Remove(path); rmErr != nil {
			return nil, fmt.Errorf("create ring %s: remove stale ring: %w", path, rmErr)
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("create ring %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(int64(g.size)); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create ring %s: size %d bytes: %w", path, g.size, err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(g.size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create ring %s: mmap %d bytes: %w", path, g.size, err)
	}
	r := &Ring{opts: o, g: g, mem: mem, shared: true, path: path, owner: true, stop: make(chan struct{})}
	// Write the header last-but-one and the magic last, so an Open racing
	// with Create never sees a half-written header as valid.
	r.format()
	r.initProducer()
	runtime.AddCleanup(r, func(m []byte) { unix.Munmap(m) }, mem)
	r.startReaper()
	r.startMonitor()
	return r, nil
}

// Open maps the ring at path, created by another process with Create, and
// attaches as its consumer: Fetch and Complete. Sizes come from the file;
// of opts only Wait, SpinFor, the heartbeat options and Logger apply. If
// another consumer is attached and its process is alive, Open fails with
// ErrBusy at once; if the previous one died or detached, Open waits (up to
// HeartbeatTimeout + 1s) for the owner to recover its commands.
func Open(path string, opts Options) (*Ring, error) {
	opts.Entries, opts.ArenaMiB, opts.ArenaBytes = 0, 0, 0
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open ring %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open ring %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open ring %s: %w", path, err)
	}
	if st.Size() < headerSize || st.Size() > 1<<33 {
		return nil, fmt.Errorf("open ring %s: file of %d bytes is not a ring", path, st.Size())
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("open ring %s: mmap: %w", path, err)
	}
	g, err := readGeometry(mem)
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("open ring %s: %w", path, err)
	}
	r := &Ring{opts: o, g: g, mem: mem, shared: true, path: path, cons: true, stop: make(chan struct{})}
	r.initConsumer()
	if err := r.attach(); err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("open ring %s: %w", path, err)
	}
	runtime.AddCleanup(r, func(m []byte) { unix.Munmap(m) }, mem)
	r.startHeartbeat()
	return r, nil
}

// attach claims the consumer role: state none → attached, then pid,
// a fresh epoch and a first heartbeat.
func (r *Ring) attach() error {
	state := r.u32(offConsumerState)
	deadline := time.Now().Add(r.opts.HeartbeatTimeout + time.Second)
	for {
		if atomic.LoadUint32(r.u32(offClosed)) != 0 {
			return ErrClosed
		}
		if atomic.CompareAndSwapUint32(state, consumerNone, consumerAttached) {
			break
		}
		pid := atomic.LoadUint32(r.u32(offConsumerPID))
		sameNS := atomic.LoadUint64(r.u64(offConsumerPidNS)) == pidNamespace()
		if atomic.LoadUint32(state) == consumerAttached && pid != 0 && (!sameNS || pidAlive(pid)) {
			return fmt.Errorf("%w (pid %d)", ErrBusy, pid)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (pid %d, state %d)", ErrBusy, atomic.LoadUint32(r.u32(offConsumerPID)), atomic.LoadUint32(state))
		}
		time.Sleep(5 * time.Millisecond)
	}
	atomic.StoreUint32(r.u32(offConsumerPID), uint32(os.Getpid()))
	atomic.StoreUint64(r.u64(offConsumerPidNS), pidNamespace())
	atomic.AddUint64(r.u64(offHeartbeat), 1)
	r.epoch = atomic.AddUint32(r.u32(offEpoch), 1)
	return nil
}

// startHeartbeat advances the heartbeat word every HeartbeatInterval while
// the consumer is open (the owner's liveness check), and watches the
// owner: once its process is gone, Fetch and Complete return ErrClosed.
func (r *Ring) startHeartbeat() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.opts.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				atomic.AddUint64(r.u64(offHeartbeat), 1)
				if !pidAlive(atomic.LoadUint32(r.u32(offOwnerPID))) {
					r.ownerGone.Store(true)
					r.wake(offSQBell, true) // a sleeping Fetch returns ErrClosed
				}
			}
		}
	}()
}

// pidAlive reports whether a process exists and is not a zombie.
func pidAlive(pid uint32) bool {
	if pid == 0 {
		return false
	}
	if err := unix.Kill(int(pid), 0); err == unix.ESRCH {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !os.IsNotExist(err)
	}
	// "pid (comm) S ...": the state follows the last ')'.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
		}
	}
	return true
}

// staleRing reports whether path is a ring whose owner process is gone
// (left behind by a crash), so Create may replace it. Anything else that
// exists there is kept.
func staleRing(path string) bool {
	b := make([]byte, headerSize)
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := io.ReadFull(f, b); err != nil {
		return false
	}
	le := binary.LittleEndian
	if le.Uint32(b[offMagic:]) != magic {
		return false
	}
	return !pidAlive(le.Uint32(b[offOwnerPID:]))
}

// pidNamespace is the inode of this process's pid namespace, or 0. Pids
// are compared only between processes in the same namespace (a consumer
// in a container sees other pids than its owner); elsewhere the heartbeat
// alone decides.
func pidNamespace() uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return 0
	}
	return st.Ino
}
