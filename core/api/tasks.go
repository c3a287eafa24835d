package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// TaskService is what the API needs of the task service (*tasks.Service).
type TaskService interface {
	Submit(ctx context.Context, req tasks.Request) (tasks.Task, bool, error)
	Get(ctx context.Context, tenant, id string) (tasks.Task, error)
	List(ctx context.Context, f tasks.Filter) ([]tasks.Task, string, error)
	Events(ctx context.Context, tenant, id string, after, limit int) ([]tasks.Event, error)
	Subscribe(id string) *tasks.Subscription
	Cancel(ctx context.Context, tenant, id string) (tasks.Task, error)
	Confirm(ctx context.Context, tenant, id string, approve bool) (tasks.Task, error)
	Resume(ctx context.Context, tenant, id string) (tasks.Task, error)
	TenantScreenshot(ctx context.Context, tenant, sha256 string) ([]byte, error)
}

// RunRequest is the body of POST /api/v1/run.
type RunRequest struct {
	Instruction string `json:"instruction"`
	// DeviceID asks for one device ("<backend>/<id>" or an id).
	DeviceID string `json:"device_id,omitempty"`
	// DeadlineMS is the time the task has, from now; 0 (absent) makes it
	// best effort.
	DeadlineMS int64 `json:"deadline_ms,omitempty"`
	// Tenant: only an admin may name a tenant other than its own.
	Tenant string `json:"tenant,omitempty"`
	// Planner: intent, autoglm, or a planner plugin name.
	Planner  string `json:"planner,omitempty"`
	Model    string `json:"model,omitempty"`
	Priority int    `json:"priority,omitempty"`
	MaxSteps int    `json:"max_steps,omitempty"`
}

// ConfirmRequest is the body of POST /api/v1/tasks/{id}/confirm.
type ConfirmRequest struct {
	Approve *bool `json:"approve"`
}

// TaskList is the body of GET /api/v1/tasks.
type TaskList struct {
	Tasks []tasks.Task `json:"tasks"`
	// Next is the cursor of the next page; absent on the last.
	Next string `json:"next,omitempty"`
}

// plannerNames maps short planner names onto plugin names.
var plannerNames = map[string]string{"intent": "planner-intent", "autoglm": "planner-autoglm"}

// caller is the request's principal. Without auth middleware every request
// is an admin of tenant "default" (auth off); with it, a request that
// reached a task route has a principal.
func (s *Server) caller(r *http.Request) (auth.Principal, bool) {
	if p, ok := auth.FromContext(r.Context()); ok {
		return p, true
	}
	if s.Auth == nil {
		return auth.Principal{Subject: "anonymous", Tenant: auth.DefaultTenant, Role: auth.RoleAdmin, Kind: auth.KindUser}, true
	}
	return auth.Principal{}, false
}

// scope is the tenant a caller reads in: "" (all) for an admin.
func scope(p auth.Principal) string {
	if p.Role == auth.RoleAdmin {
		return ""
	}
	return p.Tenant
}

// withCaller wraps a task handler with its caller and the service.
func (s *Server) withCaller(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	if s.Tasks == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server runs no task service")
		return auth.Principal{}, false
	}
	p, ok := s.caller(r)
	if !ok {
		WriteError(w, http.StatusUnauthorized, "unauthorized", "no credentials")
	}
	return p, ok
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return
	}
	var req RunRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	tenant, err := p.TenantFor(req.Tenant)
	if err != nil {
		WriteError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	if req.DeadlineMS < 0 {
		s.writeErr(w, r, fmt.Errorf("%w: deadline_ms must be positive, got %d", tasks.ErrInvalid, req.DeadlineMS))
		return
	}
	if p.Kind == auth.KindDevice && req.DeviceID != p.Device {
		WriteError(w, http.StatusForbidden, "forbidden", "a device token runs tasks on its own device only")
		return
	}
	tr := tasks.Request{Instruction: req.Instruction, DeviceID: req.DeviceID, Tenant: tenant, Planner: req.Planner,
		Model: req.Model, Priority: req.Priority, MaxSteps: req.MaxSteps, CreatedBy: p.Subject,
		IdempotencyKey: r.Header.Get("Idempotency-Key")}
	if n, ok := plannerNames[tr.Planner]; ok {
		tr.Planner = n
	}
	if req.DeadlineMS > 0 {
		tr.Deadline = time.Now().Add(time.Duration(req.DeadlineMS) * time.Millisecond)
	}
	t, created, err := s.Tasks.Submit(r.Context(), tr)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	auth.SetAuditTarget(r.Context(), t.ID)
	w.Header().Set("Location", "/api/v1/tasks/"+t.ID)
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, t)
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := tasks.Filter{Tenant: scope(p), State: tasks.State(q.Get("state")), Cursor: q.Get("cursor")}
	if t := q.Get("tenant"); t != "" {
		if !p.CanSee(t) {
			writeJSON(w, http.StatusOK, TaskList{Tasks: []tasks.Task{}})
			return
		}
		f.Tenant = t
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("limit must be 1 to 500, got %q", l))
			return
		}
		f.Limit = n
	}
	list, next, err := s.Tasks.List(r.Context(), f)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if list == nil {
		list = []tasks.Task{}
	}
	writeJSON(w, http.StatusOK, TaskList{Tasks: list, Next: next})
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return
	}
	t, err := s.Tasks.Get(r.Context(), scope(p), r.PathValue("id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) cancelTask(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, func(ctx context.Context, tenant, id string) (tasks.Task, error) {
		return s.Tasks.Cancel(ctx, tenant, id)
	})
}

func (s *Server) resumeTask(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, func(ctx context.Context, tenant, id string) (tasks.Task, error) {
		return s.Tasks.Resume(ctx, tenant, id)
	})
}

func (s *Server) confirmTask(w http.ResponseWriter, r *http.Request) {
	var req ConfirmRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if req.Approve == nil {
		WriteError(w, http.StatusBadRequest, "invalid_request", `the body must say {"approve": true} or {"approve": false}`)
		return
	}
	s.control(w, r, func(ctx context.Context, tenant, id string) (tasks.Task, error) {
		return s.Tasks.Confirm(ctx, tenant, id, *req.Approve)
	})
}

// control runs a state-changing call on a task and answers with the task.
func (s *Server) control(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, tenant, id string) (tasks.Task, error)) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return
	}
	auth.SetAuditTarget(r.Context(), r.PathValue("id"))
	t, err := fn(r.Context(), scope(p), r.PathValue("id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// Step is one row of GET /api/v1/tasks/{id}/steps: a recorded step event.
type Step = tasks.Event

// taskSteps serves the task's recorded steps (its "step" events).
func (s *Server) taskSteps(w http.ResponseWriter, r *http.Request) {
	steps, ok := s.steps(w, r)
	if ok {
		writeJSON(w, http.StatusOK, steps)
	}
}

func (s *Server) steps(w http.ResponseWriter, r *http.Request) ([]Step, bool) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return nil, false
	}
	evs, err := s.Tasks.Events(r.Context(), scope(p), r.PathValue("id"), 0, 0)
	if err != nil {
		s.writeErr(w, r, err)
		return nil, false
	}
	steps := []Step{}
	for _, e := range evs {
		if e.Kind == agent.EventStep {
			steps = append(steps, e)
		}
	}
	return steps, true
}

var _ TaskService = (*tasks.Service)(nil)
