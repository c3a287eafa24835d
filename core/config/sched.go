package config

import "time"

// SchedConfig is the sched section (core/sched): admission, ordering and
// overload degradation of tasks.
type SchedConfig struct {
	// Policy orders waiting tasks: edf (earliest deadline first, the
	// default), fifo, or rm (rate-monotonic, for comparison).
	Policy string `koanf:"policy"`
	// Admission rejects, at submit, a task whose deadline cannot be met
	// under the current load, with the estimate and the reason.
	Admission bool `koanf:"admission"`
	// Degrade moves tasks predicted to miss their deadline to the cheaper
	// tier below before they miss.
	Degrade bool `koanf:"degrade"`
	// DegradeModel is the model plugin degraded tasks infer with.
	DegradeModel string `koanf:"degrade_model"`
	// DegradePlanner is the planner plugin degraded tasks plan with.
	DegradePlanner string `koanf:"degrade_planner"`
	// StepEstimate is the time one step is assumed to take until the
	// scheduler has learned it per planner and model.
	StepEstimate time.Duration `koanf:"step_estimate"`
	// MaxQueued bounds the tasks waiting for a device; submissions beyond
	// it get 429.
	MaxQueued int `koanf:"max_queued"`
	// Tenants maps a tenant to its task quota.
	Tenants map[string]SchedTenant `koanf:"tenants"`
}

// SchedTenant is sched.tenants.<name>.
type SchedTenant struct {
	// MaxRunning is the most tasks the tenant may run at once; 0 is no
	// limit.
	MaxRunning int `koanf:"max_running"`
	// MaxQueued is the most tasks the tenant may have waiting; 0 is no
	// limit beyond sched.max_queued.
	MaxQueued int `koanf:"max_queued"`
}

func defaultSched() SchedConfig {
	return SchedConfig{
		Policy:         "edf",
		Admission:      true,
		Degrade:        true,
		DegradeModel:   "model-intent-int8",
		DegradePlanner: "planner-intent",
		StepEstimate:   2 * time.Second,
		MaxQueued:      100000,
	}
}

func (s *SchedConfig) validate(v *checker) {
	v.oneOf("sched.policy", s.Policy, "edf", "fifo", "rm")
	if s.DegradeModel != "" && !pluginName.MatchString(s.DegradeModel) {
		v.add("sched.degrade_model", "must be a plugin name (letters, digits, - and _), got %q", s.DegradeModel)
	}
	if s.DegradePlanner != "" && !pluginName.MatchString(s.DegradePlanner) {
		v.add("sched.degrade_planner", "must be a plugin name (letters, digits, - and _), got %q", s.DegradePlanner)
	}
	v.durationBetween("sched.step_estimate", s.StepEstimate, time.Millisecond, time.Hour)
	v.between("sched.max_queued", s.MaxQueued, 1, 100000000)
	for _, name := range sortedKeys(s.Tenants) {
		t := s.Tenants[name]
		key := "sched.tenants." + name
		if t.MaxRunning < 0 {
			v.add(key+".max_running", "must be 0 (no limit) or more, got %d", t.MaxRunning)
		}
		if t.MaxQueued < 0 {
			v.add(key+".max_queued", "must be 0 (no limit) or more, got %d", t.MaxQueued)
		}
	}
}
