package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openautoglm/cloudphone/core/agent"
)

// Task states the metrics know in advance (the store's: their series exist
// from the start, at 0). Final states are counted but not held in the
// gauge; a state not listed here is taken as live.
var (
	liveStates     = []string{"queued", "running", "paused"}
	terminalStates = []string{"succeeded", "failed", "canceled", "interrupted"}
)

type taskState struct {
	gauge    prometheus.Gauge // nil for terminal states
	entered  prometheus.Counter
	terminal bool
}

func (m *Metrics) initTasks() {
	m.tasks = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "tasks",
		Help: "Tasks currently in each live state (queued, running, paused).",
	}, []string{"state"})
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "task_transitions_total",
		Help: "Tasks that entered each state (terminal states included).",
	}, []string{"state"})
	m.reg.MustRegister(m.tasks, m.transitions)
	m.states = make(map[string]taskState, len(liveStates)+len(terminalStates))
	for _, s := range liveStates {
		m.states[s] = taskState{gauge: m.tasks.WithLabelValues(s), entered: m.transitions.WithLabelValues(s)}
	}
	for _, s := range terminalStates {
		m.states[s] = taskState{entered: m.transitions.WithLabelValues(s), terminal: true}
	}
}

func (m *Metrics) state(name string) taskState {
	if st, ok := m.states[name]; ok {
		return st
	}
	// An unknown state is taken as live: it has a gauge.
	return taskState{gauge: m.tasks.WithLabelValues(name), entered: m.transitions.WithLabelValues(name)}
}

// TaskTransition records a task moving from one state to another; from is
// "" for a new task. The gauge of from goes down and that of to goes up
// (terminal states have no gauge), and to's transition counter goes up.
func (m *Metrics) TaskTransition(from, to string) {
	if m == nil || from == to {
		return
	}
	if from != "" {
		if st := m.state(from); st.gauge != nil {
			st.gauge.Dec()
		}
	}
	st := m.state(to)
	if st.gauge != nil {
		st.gauge.Inc()
	}
	st.entered.Inc()
}

// SetTasks sets the number of tasks in a live state, for a server that
// starts over an existing store (queued and paused tasks it recovers).
func (m *Metrics) SetTasks(state string, n int) {
	if m == nil {
		return
	}
	if st := m.state(state); st.gauge != nil {
		st.gauge.Set(float64(n))
	}
}

// Step phases, the label values of cloudphone_step_phase_seconds.
const (
	PhaseObserve = iota
	PhasePlan
	PhaseInfer
	PhaseAct
	PhaseSettle
	PhaseOverhead
	numPhases
)

// PhaseNames are the phase label values, by Phase… index.
var PhaseNames = [numPhases]string{"observe", "plan", "infer", "act", "settle", "overhead"}

func (m *Metrics) initSteps() {
	m.phases = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "step_phase_seconds",
		Help:    "Time spent in each phase of an agent step (phases that took no time are not observed).",
		Buckets: secondsBuckets,
	}, []string{"phase"})
	total := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "step_seconds",
		Help:    "Wall time of a whole agent step.",
		Buckets: secondsBuckets,
	})
	m.reg.MustRegister(m.phases, total)
	m.stepTotal = total
	for i, name := range PhaseNames {
		m.phaseObs[i] = m.phases.WithLabelValues(name)
	}
}

// ObserveStep records one step's timings (agent.Event.Timings of a step
// event): each phase that took time into cloudphone_step_phase_seconds and
// the total into cloudphone_step_seconds. It does not allocate.
func (m *Metrics) ObserveStep(t agent.Timings) {
	if m == nil {
		return
	}
	obs := func(i int, d time.Duration) {
		if d > 0 {
			m.phaseObs[i].Observe(d.Seconds())
		}
	}
	obs(PhaseObserve, t.Observe)
	obs(PhasePlan, t.Plan)
	obs(PhaseInfer, t.Infer)
	obs(PhaseAct, t.Act)
	obs(PhaseSettle, t.Settle)
	obs(PhaseOverhead, t.Overhead)
	if t.Total > 0 {
		m.stepTotal.Observe(t.Total.Seconds())
	}
}

// ObserveEvent is an agent.Event observer: it records the timings of step
// events and ignores the rest. (Deadline misses are the caller's to count
// with DeadlineMissed: it knows the task's deadline.)
func (m *Metrics) ObserveEvent(ev agent.Event) {
	if m == nil || ev.Kind != agent.EventStep || ev.Timings == nil {
		return
	}
	m.ObserveStep(*ev.Timings)
}
