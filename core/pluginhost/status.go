package pluginhost

import (
	"path/filepath"
	"sort"
	"time"
)

// Event actions.
const (
	ActionLoaded    = "loaded"
	ActionSwapped   = "swapped"
	ActionRejected  = "rejected"
	ActionUnloaded  = "unloaded"
	ActionCrashed   = "crashed"
	ActionRecovered = "recovered"
)

// historyLen is how many events each plugin keeps.
const historyLen = 32

// Event is one entry in a plugin's reload history.
type Event struct {
	Time     time.Time     `json:"time"`
	Plugin   string        `json:"plugin,omitempty"`
	File     string        `json:"file"`
	Version  string        `json:"version,omitempty"`
	Previous string        `json:"previous_version,omitempty"`
	SHA256   string        `json:"sha256,omitempty"`
	Action   string        `json:"action"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
}

// Status is one row of `cloudphone plugins`: the version serving a name, or
// a file that was rejected.
type Status struct {
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Version   string     `json:"version"`
	Transport string     `json:"transport"`
	File      string     `json:"file"`
	SHA256    string     `json:"sha256"`
	State     string     `json:"state"`
	Error     string     `json:"error"`
	LoadedAt  *time.Time `json:"loaded_at"`
	InFlight  int64      `json:"in_flight"`
	History   []Event    `json:"history,omitempty"`
}

func (h *Host) recordLocked(e *entry, ev Event) {
	e.history = append(e.history, ev)
	if len(e.history) > historyLen {
		e.history = append(e.history[:0], e.history[len(e.history)-historyLen:]...)
	}
	if h.opts.OnEvent != nil {
		h.opts.OnEvent(ev)
	}
}

// Status lists every plugin name with its serving version, then every file
// that is loading or was rejected, each as its own row.
func (h *Host) Status() []Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Status, 0, len(h.entries)+len(h.rejected))
	for name, e := range h.entries {
		v := e.cur
		info := v.inst.Info()
		at := v.loadedAt
		out = append(out, Status{
			Name: name, Kind: KindName(info.GetKind()), Version: info.GetVersion(), Transport: v.inst.Transport(),
			File: v.file, SHA256: v.sha256, State: e.state, Error: e.err, LoadedAt: &at, InFlight: v.inFlight(),
			History: append([]Event(nil), e.history...),
		})
	}
	for file, r := range h.rejected {
		name := r.name
		if name == "" {
			name = pinKey(file)
		}
		out = append(out, Status{Name: name, Transport: transportOf(file), File: file, SHA256: r.sha256,
			State: StateRejected, Error: r.err})
	}
	for file := range h.loading {
		if _, serving := h.byFile[file]; !serving {
			out = append(out, Status{Name: pinKey(file), Transport: transportOf(file), File: file, State: StateLoading})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].State == StateActive && out[j].State != StateActive
	})
	return out
}

func transportOf(file string) string {
	if filepath.Ext(file) == ".wasm" {
		return TransportWasm
	}
	return TransportProcess
}

// watchdog turns a loaded instance's health reports into registry state.
// Reports about a version that no longer serves are dropped.
type watchdog struct {
	h    *Host
	name string
	v    *version
}

func (w *watchdog) bind(name string, v *version) {
	w.h.mu.Lock()
	w.name, w.v = name, v
	w.h.mu.Unlock()
}

func (w *watchdog) notify(state string, err error) {
	h := w.h
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entries[w.name]
	if w.v == nil || e == nil || e.cur != w.v {
		return
	}
	ev := Event{Time: time.Now(), Plugin: w.name, File: e.cur.file, Version: e.cur.inst.Info().GetVersion(), SHA256: e.cur.sha256}
	switch state {
	case StateCrashed:
		e.state, ev.Action = StateCrashed, ActionCrashed
		if err != nil {
			e.err, ev.Error = err.Error(), err.Error()
		}
		h.log.Warn("plugin crashed; restarting", "plugin", w.name, "error", err)
	case StateActive:
		e.state, e.err, ev.Action = StateActive, "", ActionRecovered
		h.log.Info("plugin recovered", "plugin", w.name)
	default:
		return
	}
	h.recordLocked(e, ev)
}
