package tasks

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
)

// Limits of a request.
const (
	MaxInstructionBytes = 4096
	MaxStepsLimit       = 200
	DefaultTenant       = pool.DefaultTenant
)

// Options configure a Service.
type Options struct {
	Store Store
	// Planners and Models are what agents plan and infer with (the plugin
	// host; the vGPU gateway or the node's cached models for Models).
	Planners agent.Planners
	Models   agent.Models
	// Planner is the default planner plugin (default planner-intent).
	Planner string
	// MaxSteps is the default step limit (default agent.DefaultMaxSteps).
	MaxSteps int
	// Screenshots keeps a screenshot in every step for the timeline
	// (agent.Task.Screenshots).
	Screenshots bool
	// StepTimeout bounds one step (agent.Runner.StepTimeout).
	StepTimeout time.Duration
	// Observer is told of transitions and events (metrics); nil: none.
	Observer Observer
	Logger   *slog.Logger
}

// Service runs submitted tasks. Build it with New, give its Dispatch to the
// scheduler, then Start it with that scheduler.
type Service struct {
	opts  Options
	store Store
	obs   Observer
	log   *slog.Logger
	wake  wakers

	mu     sync.Mutex
	sched  Scheduler
	runs   map[string]*taskRun
	closed bool
	base   context.Context
	stop   context.CancelCauseFunc
	wg     sync.WaitGroup
}

// errStopping is the cause of runs ended by Close.
var errStopping = errors.New("the server is stopping")

// New builds a Service; nothing runs until Start.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Planners == nil {
		return nil, errors.New("task service: a store and planners are required")
	}
	if opts.Planner == "" {
		opts.Planner = "planner-intent"
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = agent.DefaultMaxSteps
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	base, stop := context.WithCancelCause(context.Background())
	return &Service{opts: opts, store: opts.Store, obs: opts.Observer, log: opts.Logger, runs: map[string]*taskRun{},
		base: base, stop: stop, wake: wakers{m: map[string]*waker{}}}, nil
}

// Start recovers what a previous process left (see Recover) and starts
// taking submissions through sched, whose RunFunc must be
// sched.PoolRun(s.Dispatch).
func (s *Service) Start(ctx context.Context, sc Scheduler) error {
	s.mu.Lock()
	s.sched = sc
	s.mu.Unlock()
	return s.Recover(ctx)
}

// Close ends running tasks as interrupted (reason server_stopped) and waits
// for them to be recorded, until ctx ends. Queued tasks stay queued in the
// store; the next Start submits them again.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop(errStopping)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close task service: runs still recording: %w", ctx.Err())
	}
}

// Submit stores the task and asks the scheduler to admit it. It returns the
// task and whether it was created now (false: the idempotency key named an
// existing task, returned as it is). A refusal is a *RejectError; the task
// is then stored as failed with the reason.
func (s *Service) Submit(ctx context.Context, req Request) (Task, bool, error) {
	t, err := s.newTask(req)
	if err != nil {
		return Task{}, false, err
	}
	s.mu.Lock()
	closed, sc := s.closed, s.sched
	s.mu.Unlock()
	if closed || sc == nil {
		return Task{}, false, ErrClosed
	}
	stored, created, err := s.store.CreateTask(ctx, t)
	if err != nil {
		return Task{}, false, fmt.Errorf("submit: %w", err)
	}
	if !created {
		if stored.Instruction != t.Instruction || stored.DeviceID != t.DeviceID || stored.Planner != t.Planner ||
			stored.Model != t.Model || stored.Tenant != t.Tenant {
			return Task{}, false, fmt.Errorf("%w: idempotency key %q was used for task %s with a different request",
				ErrConflict, req.IdempotencyKey, stored.ID)
		}
		return stored, false, nil
	}
	s.moved("", StateQueued)
	if err := s.admit(ctx, sc, stored); err != nil {
		return Task{}, true, err
	}
	return stored, true, nil
}

// admit submits a queued task to the scheduler; a refusal ends it as failed
// with the reason.
func (s *Service) admit(ctx context.Context, sc Scheduler, t Task) error {
	err := sc.Submit(schedTask(t))
	if err == nil || errors.Is(err, sched.ErrDuplicate) {
		return nil
	}
	rej := rejection(err, time.Now())
	rej.TaskID = t.ID
	s.obs.AdmissionRejected(rej.Code)
	if _, ferr := s.finish(ctx, t.ID, []State{StateQueued}, StateFailed, rej.Code, rej.Error()); ferr != nil {
		s.log.Error("record a refused task", "task", t.ID, "error", ferr)
	}
	return rej
}

// rejection maps the scheduler's refusal onto a RejectError.
func rejection(err error, now time.Time) *RejectError {
	var re *sched.RejectError
	switch {
	case errors.As(err, &re):
		return &RejectError{Status: 422, Code: "deadline_unmeetable", Reason: re.Reason, Estimate: re.Estimate.Sub(now)}
	case errors.Is(err, sched.ErrQueueFull):
		return &RejectError{Status: 429, Code: "queue_full", Reason: err.Error()}
	case errors.Is(err, sched.ErrTenantQuota):
		return &RejectError{Status: 429, Code: "tenant_quota", Reason: err.Error()}
	case errors.Is(err, sched.ErrInvalid):
		return &RejectError{Status: 400, Code: "invalid_request", Reason: err.Error()}
	}
	return &RejectError{Status: 503, Code: ReasonError, Reason: err.Error()}
}

func schedTask(t Task) sched.Task {
	est := 0
	if t.MaxSteps > 0 {
		est = min(t.MaxSteps, sched.DefaultEstSteps)
	}
	return sched.Task{ID: t.ID, Tenant: t.Tenant, Deadline: t.Deadline, Priority: t.Priority, Planner: t.Planner,
		Model: t.Model, DeviceID: t.DeviceID, EstSteps: est, Submitted: t.CreatedAt}
}

// newTask validates req and builds its record.
func (s *Service) newTask(req Request) (Task, error) {
	instr := strings.TrimSpace(req.Instruction)
	switch {
	case instr == "":
		return Task{}, fmt.Errorf("%w: instruction is empty", ErrInvalid)
	case len(instr) > MaxInstructionBytes:
		return Task{}, fmt.Errorf("%w: instruction is %d bytes, the limit is %d", ErrInvalid, len(instr), MaxInstructionBytes)
	case !utf8.ValidString(instr):
		return Task{}, fmt.Errorf("%w: instruction is not valid UTF-8", ErrInvalid)
	case req.MaxSteps < 0 || req.MaxSteps > MaxStepsLimit:
		return Task{}, fmt.Errorf("%w: max_steps must be between 1 and %d, got %d", ErrInvalid, MaxStepsLimit, req.MaxSteps)
	case len(req.IdempotencyKey) > 200:
		return Task{}, fmt.Errorf("%w: idempotency key longer than 200 bytes", ErrInvalid)
	}
	now := time.Now().UTC()
	if !req.Deadline.IsZero() && !req.Deadline.After(now) {
		return Task{}, fmt.Errorf("%w: deadline %s is in the past", ErrInvalid, req.Deadline.Format(time.RFC3339Nano))
	}
	t := Task{Tenant: req.Tenant, Instruction: instr, DeviceID: req.DeviceID, Planner: req.Planner, Model: req.Model,
		Priority: req.Priority, MaxSteps: req.MaxSteps, CreatedBy: req.CreatedBy, State: StateQueued, CreatedAt: now}
	if !req.Deadline.IsZero() {
		t.Deadline = req.Deadline.UTC()
	}
	if t.Tenant == "" {
		t.Tenant = DefaultTenant
	}
	if t.Planner == "" {
		t.Planner = s.opts.Planner
	}
	if t.MaxSteps == 0 {
		t.MaxSteps = s.opts.MaxSteps
	}
	t.ID = newID(now, t.Tenant, req.IdempotencyKey)
	return t, nil
}

// newID is a task id: time-ordered and random, or derived from the tenant
// and the idempotency key so a resubmission finds the same task.
func newID(now time.Time, tenant, key string) string {
	if key != "" {
		sum := sha256.Sum256([]byte(tenant + "\x00" + key))
		return "t-k" + hex.EncodeToString(sum[:12])
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(b[8:])
	return "t-" + hex.EncodeToString(b[:])
}

// Get returns a task; tenant "" reads any tenant's (an admin), another
// tenant's task is ErrNotFound.
func (s *Service) Get(ctx context.Context, tenant, id string) (Task, error) {
	t, err := s.store.Task(ctx, id)
	if err != nil {
		return Task{}, err
	}
	if tenant != "" && t.Tenant != tenant {
		return Task{}, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	return t, nil
}

// List returns a page of tasks, newest first (Filter.Tenant "" lists every
// tenant's).
func (s *Service) List(ctx context.Context, f Filter) ([]Task, string, error) {
	sf := store.TaskFilter{Tenant: f.Tenant, Cursor: f.Cursor, Limit: f.Limit}
	if f.State != "" {
		if !f.State.Valid() {
			return nil, "", fmt.Errorf("%w: unknown state %q", ErrInvalid, f.State)
		}
		sf.States = []State{f.State}
	}
	if sf.Limit <= 0 {
		sf.Limit = 50
	}
	sf.Limit = min(sf.Limit, 500)
	list, next, err := s.store.ListTasks(ctx, sf)
	if errors.Is(err, store.ErrInvalid) {
		err = fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return list, next, err
}

// Screenshot returns a kept screenshot PNG.
func (s *Service) Screenshot(ctx context.Context, sha string) ([]byte, error) {
	return s.TenantScreenshot(ctx, "", sha)
}

// TenantScreenshot is Screenshot for a caller of tenant ("" for an admin):
// a screenshot none of the tenant's tasks took is ErrNotFound, as if it
// did not exist, so hashes do not leak across tenants.
func (s *Service) TenantScreenshot(ctx context.Context, tenant, sha string) ([]byte, error) {
	if tenant != "" {
		ok, err := s.store.ScreenshotVisible(ctx, sha, tenant)
		if errors.Is(err, store.ErrInvalid) {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("screenshot %s: %w", sha, ErrNotFound)
		}
	}
	b, err := s.store.Screenshot(ctx, sha)
	if errors.Is(err, store.ErrInvalid) {
		err = fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b, err
}

// finish moves a task that is not running in this process to a final
// state and records its final event.
func (s *Service) finish(ctx context.Context, id string, from []State, to State, reason, msg string) (Task, error) {
	var prev State
	t, err := s.store.UpdateTask(ctx, id, from, func(t *Task) error {
		prev = t.State
		t.State, t.Reason, t.Message = to, reason, msg
		return nil
	})
	if err != nil {
		return Task{}, err
	}
	s.moved(prev, to)
	res := &agent.Result{Status: agent.Status(to), Message: msg, Steps: t.Steps}
	ev := Event{Event: agent.Event{TaskID: id, Kind: agent.EventFinished, Step: t.Steps, Message: msg, Result: res},
		State: to, Reason: reason}
	_, err = s.appendEvent(ctx, ev, nil)
	s.wake.notify(id)
	return t, err
}
