package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// tokenOrEnv is the bearer token of a command that talks to a server:
// its --token flag, else $CLOUDPHONE_TOKEN.
func tokenOrEnv(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv("CLOUDPHONE_TOKEN")
}

// fetchJSON GETs path from server into v, with token as bearer.
func fetchJSON(ctx context.Context, server, token, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := &remote{base: strings.TrimRight(server, "/"), token: token, hc: http.DefaultClient}
	return c.call(ctx, http.MethodGet, path, nil, v)
}

// remoteRun submits instruction to a running server and follows its event
// stream, printing each step as a local run does; the exit code follows the
// task's final state.
func remoteRun(ctx context.Context, f *runFlags, instruction string) error {
	base := strings.TrimRight(f.server, "/")
	c := &remote{base: base, token: tokenOrEnv(f.token), hc: &http.Client{}}
	body := map[string]any{"instruction": instruction, "max_steps": f.maxSteps}
	if f.device != "" {
		body["device_id"] = f.device
	}
	if f.planner != "" {
		body["planner"] = f.planner
	}
	if f.modelPlugin != "" {
		body["model"] = f.modelPlugin
	}
	if f.deadline > 0 {
		body["deadline_ms"] = f.deadline.Milliseconds()
	}
	var t tasks.Task
	if err := c.call(ctx, http.MethodPost, "/api/v1/run", body, &t); err != nil {
		return err
	}
	out := os.Stdout
	if !f.asJSON {
		fmt.Fprintf(out, "task %s %s submitted to %s (%s)\n", t.ID, instruction, base, t.State)
	}
	final, err := c.follow(ctx, t.ID, func(ev tasks.Event) {
		if ev.Kind == tasks.EventStarted && !f.asJSON {
			fmt.Fprintf(out, "task %s %s\n", instruction, ev.Message)
			return
		}
		if f.asJSON {
			b, _ := json.Marshal(ev)
			fmt.Fprintf(out, "%s\n", b)
			return
		}
		if ev.Kind == agent.EventFinished && ev.Result != nil {
			r := *ev.Result
			r.Status = agent.Status(ev.State)
			ev.Result = &r
		}
		printEvent(out, ev.Event, false)
	})
	if err != nil {
		return err
	}
	if final.State != tasks.StateSucceeded {
		reason := final.Reason
		if reason == "" {
			reason = string(final.State)
		}
		return &exitError{code: 1, err: fmt.Errorf("task %s %s (%s): %s", final.TaskID, final.State, reason, final.Message)}
	}
	return nil
}

// remote is a client of a server's API.
type remote struct {
	base, token string
	hc          *http.Client
}

func (c *remote) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", c.base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// call does one JSON request; a non-2xx answer is an error with the
// server's message.
func (c *remote) call(ctx context.Context, method, path string, body, out any) error {
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("server %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return serverError(method, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: bad response: %w", method, path, err)
	}
	return nil
}

func serverError(method, path string, status int, body []byte) error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		hint := ""
		if status == http.StatusUnauthorized {
			hint = " (pass --token or set CLOUDPHONE_TOKEN; `cloudphone token create` makes one)"
		}
		return fmt.Errorf("%s %s: %d %s: %s%s", method, path, status, e.Error.Code, e.Error.Message, hint)
	}
	return fmt.Errorf("%s %s: %d: %s", method, path, status, bytes.TrimSpace(body))
}

// follow reads the task's event stream until its final event, resuming
// with Last-Event-ID when the connection drops, and returns the final
// event.
func (c *remote) follow(ctx context.Context, id string, emit func(tasks.Event)) (tasks.Event, error) {
	last, fails := 0, 0
	for {
		final, n, err := c.stream(ctx, id, last, emit)
		if err == nil {
			return final, nil
		}
		last += n
		if n > 0 {
			fails = 0
		}
		var se *streamError
		if errors.As(err, &se) || ctx.Err() != nil {
			return tasks.Event{}, err
		}
		if fails++; fails > 5 {
			return tasks.Event{}, fmt.Errorf("events of task %s: %w (gave up after %d tries)", id, err, fails)
		}
		select {
		case <-ctx.Done():
			return tasks.Event{}, ctx.Err()
		case <-time.After(time.Duration(fails) * 200 * time.Millisecond):
		}
	}
}

// streamError is an answer that retrying does not change (401, 404).
type streamError struct{ err error }

func (e *streamError) Error() string { return e.err.Error() }

// stream reads one connection of the event stream after seq and returns
// the final event, or how many events it read before the stream broke.
func (c *remote) stream(ctx context.Context, id string, after int, emit func(tasks.Event)) (tasks.Event, int, error) {
	path := "/api/v1/tasks/" + id + "/events"
	req, err := c.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return tasks.Event{}, 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if after > 0 {
		req.Header.Set("Last-Event-ID", strconv.Itoa(after))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return tasks.Event{}, 0, fmt.Errorf("server %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		err := serverError("GET", path, resp.StatusCode, b)
		if resp.StatusCode < 500 {
			return tasks.Event{}, 0, &streamError{err}
		}
		return tasks.Event{}, 0, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("data: ")):
			data = append(data, line[6:]...)
		case len(line) == 0 && len(data) > 0:
			var ev tasks.Event
			if err := json.Unmarshal(data, &ev); err != nil {
				return tasks.Event{}, n, &streamError{fmt.Errorf("events of task %s: bad event %q: %w", id, data, err)}
			}
			data = data[:0]
			n++
			emit(ev)
			if ev.Kind == agent.EventFinished {
				return ev, n, nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return tasks.Event{}, n, fmt.Errorf("events of task %s: %w", id, err)
	}
	// The server ends a stream after the final event, or when the task is
	// final without one (then the task says how it ended).
	var t tasks.Task
	if err := c.call(ctx, http.MethodGet, "/api/v1/tasks/"+id, nil, &t); err == nil && t.State.Final() {
		return tasks.Event{Event: agent.Event{TaskID: id, Kind: agent.EventFinished, Message: t.Message},
			State: t.State, Reason: t.Reason}, n, nil
	}
	return tasks.Event{}, n, fmt.Errorf("events of task %s: stream ended early", id)
}
