package ring

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Command is one inference request on a ring.
type Command struct {
	// ID is the submitter's request id; the completion carries it back.
	// It must be unique among the ring's in-flight commands when Call is
	// used.
	ID uint64
	// Slice is the vGPU slice the command is charged to.
	Slice uint32
	// Model identifies the model on the consumer side.
	Model uint32
	// Deadline is an absolute deadline in unix nanoseconds; 0 is none.
	Deadline int64
	// Flags is a set of Flag bits; unknown bits are refused.
	Flags Flag
	// Payload is the request body. Submit copies it into the arena (at most
	// Ring.ChunkSize bytes). On the consumer side it aliases the arena and
	// stays valid until the command is completed.
	Payload []byte
	// Tag is set by the ring (Fetch) and ignored by Submit: the index of the
	// command's in-flight slot. Reply copies it into the completion.
	Tag uint32
}

// Reply builds the completion of c with the given status and result.
func (c Command) Reply(status Status, result []byte) Completion {
	return Completion{ID: c.ID, Tag: c.Tag, Status: status, Result: result}
}

// Completion is the answer to one command.
type Completion struct {
	// ID is the command's ID.
	ID uint64
	// Tag is the command's Tag (Command.Reply fills it).
	Tag uint32
	// Status says how the command ended.
	Status Status
	// Result is the result body (at most Ring.ChunkSize bytes); for an
	// error status, a human-readable reason. On the producer side it is
	// the submitter's own copy.
	Result []byte
}

// Err is nil for StatusOK and otherwise an error wrapping the status's
// sentinel (ErrFailed, ErrMalformed, ErrConsumerLost, …) with the reason
// carried in Result.
func (c Completion) Err() error {
	if c.Status == StatusOK {
		return nil
	}
	base := c.Status.sentinel()
	if len(c.Result) > 0 {
		return fmt.Errorf("ring command %d: %w: %s", c.ID, base, c.Result)
	}
	return fmt.Errorf("ring command %d: %w", c.ID, base)
}

// Flag is a bit in Command.Flags.
type Flag uint32

const (
	// FlagBatchable says the consumer may run the command in a batch with
	// others of the same model.
	FlagBatchable Flag = 1 << 0
	// FlagRequeued is set by the ring on a command re-offered after its
	// consumer was lost (Options.Requeue); it is not accepted on Submit.
	FlagRequeued Flag = 1 << 1

	knownFlags = FlagBatchable | FlagRequeued
)

// Status is a completion's outcome code (the descriptor's status field).
type Status uint32

const (
	// StatusOK: the command ran; Result is its output.
	StatusOK Status = 0
	// StatusFailed: the consumer could not run it; Result says why.
	StatusFailed Status = 1
	// StatusMalformed: its descriptor failed validation.
	StatusMalformed Status = 2
	// StatusConsumerLost: its consumer died or detached before completing it.
	StatusConsumerLost Status = 3
	// StatusDeadlineExceeded: the consumer dropped it past its deadline.
	StatusDeadlineExceeded Status = 4
	// StatusClosed: the ring was closed before it completed.
	StatusClosed Status = 5

	maxStatus = StatusClosed
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFailed:
		return "failed"
	case StatusMalformed:
		return "malformed"
	case StatusConsumerLost:
		return "consumer lost"
	case StatusDeadlineExceeded:
		return "deadline exceeded"
	case StatusClosed:
		return "closed"
	}
	return fmt.Sprintf("status(%d)", uint32(s))
}

func (s Status) sentinel() error {
	switch s {
	case StatusMalformed:
		return ErrMalformed
	case StatusConsumerLost:
		return ErrConsumerLost
	case StatusDeadlineExceeded:
		return ErrDeadline
	case StatusClosed:
		return ErrClosed
	}
	return ErrFailed
}

// Errors. Completion.Err and Call wrap the ones matching a status.
var (
	// ErrFull: every tag (in-flight slot) is taken, or a payload does not
	// fit its arena chunk.
	ErrFull = errors.New("ring full")
	// ErrTooLarge: a payload or result is larger than Ring.ChunkSize.
	ErrTooLarge = errors.New("payload larger than the ring's arena chunk")
	// ErrClosed: the ring is closed.
	ErrClosed = errors.New("ring closed")
	// ErrConsumerLost: the consumer died or detached before completing.
	ErrConsumerLost = errors.New("ring consumer lost")
	// ErrMalformed: a descriptor failed validation.
	ErrMalformed = errors.New("malformed ring descriptor")
	// ErrFailed: the consumer reported a failure.
	ErrFailed = errors.New("ring command failed")
	// ErrDeadline: the consumer dropped the command past its deadline.
	ErrDeadline = errors.New("ring command deadline exceeded")
	// ErrWrongSide: a producer method on a consumer handle or the reverse.
	ErrWrongSide = errors.New("ring method not available on this side")
	// ErrUnknownCommand: Complete for a tag/id this consumer did not fetch
	// (or already completed).
	ErrUnknownCommand = errors.New("completion for a command not fetched by this consumer")
	// ErrBusy: Open found another live consumer attached.
	ErrBusy = errors.New("ring already has a consumer")
)

// WaitMode is how a side waits for the other (config vgpu.wait).
type WaitMode int

const (
	// WaitAdaptive spins for Options.SpinFor, then sleeps (the default).
	WaitAdaptive WaitMode = iota
	// WaitPoll spins with runtime.Gosched: lowest latency, a busy core.
	// Each side needs a free core: on an oversubscribed machine a spinner
	// waits out its peer's time slice (docs/perf.md).
	WaitPoll
	// WaitSleep sleeps on a futex doorbell word in the shared header; an
	// in-process ring parks the goroutine on a channel instead, which is
	// its fastest mode for batches on a busy machine (docs/perf.md).
	WaitSleep
)

// ParseWaitMode reads the vgpu.wait config value: poll, sleep or adaptive.
func ParseWaitMode(s string) (WaitMode, error) {
	switch s {
	case "poll":
		return WaitPoll, nil
	case "sleep":
		return WaitSleep, nil
	case "adaptive", "":
		return WaitAdaptive, nil
	}
	return 0, fmt.Errorf("ring wait mode %q: want poll, sleep or adaptive", s)
}

func (m WaitMode) String() string {
	switch m {
	case WaitPoll:
		return "poll"
	case WaitSleep:
		return "sleep"
	}
	return "adaptive"
}

// Options configure a ring. The zero value is usable: 1024 entries, 16 MiB
// arena, adaptive waiting. Open takes sizes from the file and uses only the
// wait, heartbeat and logger options.
type Options struct {
	// Entries is the number of descriptors in each of SQ and CQ and the
	// number of commands in flight at once (vgpu.ring_entries): a power of
	// two from 2 to 65536. Default 1024.
	Entries int
	// ArenaMiB is the payload arena size (vgpu.arena_mib), 1–4096. Default
	// 16. Half holds requests, half results; each tag owns one chunk of
	// each, so ChunkSize = ArenaMiB MiB / (2 × Entries), rounded down to 64.
	ArenaMiB int
	// ArenaBytes overrides ArenaMiB when non-zero (tests, small rings).
	ArenaBytes int
	// Wait is how Fetch, Reap and Call wait (vgpu.wait).
	Wait WaitMode
	// SpinFor is how long WaitAdaptive spins before sleeping. Default 50µs.
	SpinFor time.Duration
	// FailFast makes Submit return ErrFull at once when no tag is free,
	// instead of waiting for one while ctx lives.
	FailFast bool
	// Requeue re-offers a lost consumer's unfinished commands to the next
	// consumer instead of completing them with StatusConsumerLost.
	Requeue bool
	// HeartbeatInterval is how often a consumer advances the heartbeat word
	// and the owner checks it (default 50ms); HeartbeatTimeout is how long
	// the word may stand still before the consumer is declared lost
	// (default 2s). A consumer whose pid is gone is lost at the next check.
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// OnConsumerLost, if set, is called on the owner's monitor goroutine
	// after a consumer was declared lost (it exited, stalled or detached)
	// and its unfinished commands were recovered, once a new consumer may
	// attach: unfinished counts the commands it had fetched. Commands it
	// had not fetched wait in the ring for the next consumer, so an owner
	// that restarts consumers does it here. It must not block.
	OnConsumerLost func(why string, unfinished int)
	// Logger receives warnings (malformed descriptors, lost consumers).
	// Default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Entries == 0 {
		o.Entries = 1024
	}
	if n := o.Entries; n < 2 || n > 65536 || n&(n-1) != 0 {
		return o, fmt.Errorf("ring entries must be a power of two from 2 to 65536, got %d", n)
	}
	if o.ArenaBytes == 0 {
		if o.ArenaMiB == 0 {
			o.ArenaMiB = 16
		}
		if o.ArenaMiB < 1 || o.ArenaMiB > 4096 {
			return o, fmt.Errorf("ring arena must be 1–4096 MiB, got %d", o.ArenaMiB)
		}
		o.ArenaBytes = o.ArenaMiB << 20
	}
	if o.ArenaBytes < 0 || int64(o.ArenaBytes) > 4<<30-1 {
		return o, fmt.Errorf("ring arena must be under 4 GiB, got %d bytes", o.ArenaBytes)
	}
	if o.ArenaBytes/(2*o.Entries) < 64 {
		return o, fmt.Errorf("ring arena of %d bytes is too small for %d entries (at least 128 bytes per entry)", o.ArenaBytes, o.Entries)
	}
	if o.Wait < WaitAdaptive || o.Wait > WaitSleep {
		return o, fmt.Errorf("ring wait mode %d unknown", o.Wait)
	}
	if o.SpinFor <= 0 {
		o.SpinFor = 50 * time.Microsecond
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 50 * time.Millisecond
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 2 * time.Second
	}
	if o.HeartbeatTimeout < 2*o.HeartbeatInterval {
		o.HeartbeatTimeout = 2 * o.HeartbeatInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
