package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Dist is a distribution of durations: log-normal with mean Mean and
// coefficient of variation CV (CV 0: always Mean).
type Dist struct {
	Mean time.Duration
	CV   float64
}

// Sample draws one duration.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	if d.CV <= 0 {
		return d.Mean
	}
	s2 := math.Log1p(d.CV * d.CV)
	mu := math.Log(float64(d.Mean)) - s2/2
	return time.Duration(math.Exp(mu + math.Sqrt(s2)*r.NormFloat64()))
}

// Class is a kind of task in a workload.
type Class struct {
	Name string
	// Period > 0 makes the class periodic: streams release a task every
	// Period, shifted by up to Jitter×Period; 0 makes it one-off with
	// Poisson arrivals.
	Period time.Duration
	Jitter float64
	// Deadline is the relative deadline of a periodic task (default
	// Period). A one-off task's relative deadline is its expected run
	// time times a factor drawn uniformly in [SlackMin, SlackMax].
	Deadline           time.Duration
	SlackMin, SlackMax float64
	// BestEffort tasks have no deadline.
	BestEffort bool
	// EstSteps is the step count the task declares; it takes between
	// StepsMin×EstSteps and EstSteps steps (StepsMin default 0.7).
	EstSteps int
	StepsMin float64
	// Share is the class's share of the offered work.
	Share float64
	// Tenant and Labels go into the task's pool request.
	Tenant string
	Labels map[string]string
}

// Workload is everything a run draws from.
type Workload struct {
	Seed uint64
	// Tasks is about how many tasks arrive (the horizon is set from it).
	Tasks int
	// Utilization is offered work over capacity.
	Utilization float64
	Devices     int
	// DeviceLabels gives device i its labels (nil: none).
	DeviceLabels func(i int) map[string]string
	// GPUSlices serve inference requests, earliest deadline first.
	GPUSlices int
	// DeviceTime is a step's observe+act time on the phone; InferTime its
	// inference time on a slice.
	DeviceTime Dist
	InferTime  Dist
	// DegradeFactor scales a degraded task's inference time (the
	// distilled INT8 model).
	DegradeFactor float64
	Classes       []Class
}

// DefaultWorkload is the bench's workload at a utilization: 32 phones,
// 24 GPU slices, steps of ≈0.3 s on the phone and ≈0.5 s of inference;
// three periodic classes (periods 20 s, 60 s, 180 s) and two one-off
// classes with tight deadlines, one of which needs android=14 phones
// (a quarter of the fleet).
func DefaultWorkload(seed uint64, tasks int, utilization float64) Workload {
	return Workload{
		Seed: seed, Tasks: tasks, Utilization: utilization, Devices: 32, GPUSlices: 24,
		DeviceLabels: func(i int) map[string]string {
			if i%4 == 0 {
				return map[string]string{"android": "14"}
			}
			return map[string]string{"android": "13"}
		},
		DeviceTime:    Dist{Mean: 300 * time.Millisecond, CV: 0.5},
		InferTime:     Dist{Mean: 500 * time.Millisecond, CV: 0.4},
		DegradeFactor: 0.25,
		Classes: []Class{
			{Name: "sync", Period: 20 * time.Second, Deadline: 8 * time.Second, Jitter: 0.2, EstSteps: 4, Share: 0.2, Tenant: "a"},
			{Name: "report", Period: 60 * time.Second, Jitter: 0.2, EstSteps: 12, Share: 0.25, Tenant: "b"},
			{Name: "batch", Period: 180 * time.Second, Jitter: 0.1, EstSteps: 30, Share: 0.2, Tenant: "b"},
			{Name: "chat", SlackMin: 1.5, SlackMax: 4, EstSteps: 8, Share: 0.25, Tenant: "c"},
			{Name: "a14", SlackMin: 2, SlackMax: 6, EstSteps: 10, Share: 0.1, Tenant: "c",
				Labels: map[string]string{"android": "14"}},
		},
	}
}

// task is one generated task with all its draws.
type task struct {
	id       string
	class    *Class
	arrive   time.Duration // since the start
	deadline time.Duration // relative; 0: best-effort
	est      int
	devT     []time.Duration
	infT     []time.Duration
}

func (t *task) work(factor float64) time.Duration {
	var w time.Duration
	for i := range t.devT {
		w += t.devT[i] + time.Duration(float64(t.infT[i])*factor)
	}
	return w
}

// generate draws the workload's tasks, sorted by arrival, and the
// horizon.
func (w *Workload) generate() ([]*task, time.Duration, error) {
	if w.Devices <= 0 || w.GPUSlices <= 0 || w.Tasks <= 0 || w.Utilization <= 0 {
		return nil, 0, fmt.Errorf("workload: devices, gpu slices, tasks and utilization must be positive")
	}
	stepMean := float64(w.DeviceTime.Mean + w.InferTime.Mean)
	var share, total float64
	rates := make([]float64, len(w.Classes))
	for i := range w.Classes {
		c := &w.Classes[i]
		if c.EstSteps <= 0 || c.Share < 0 {
			return nil, 0, fmt.Errorf("workload: class %s: est_steps must be positive", c.Name)
		}
		if c.StepsMin <= 0 {
			c.StepsMin = 0.7
		}
		share += c.Share
	}
	if share <= 0 {
		return nil, 0, fmt.Errorf("workload: no class has a share")
	}
	for i := range w.Classes {
		c := &w.Classes[i]
		work := float64(c.EstSteps) * (c.StepsMin + 1) / 2 * stepMean // expected, ns
		rates[i] = c.Share / share * w.Utilization * float64(w.Devices) / (work / 1e9)
		total += rates[i]
	}
	horizon := time.Duration(float64(w.Tasks) / total * 1e9)
	var out []*task
	for i := range w.Classes {
		c := &w.Classes[i]
		r := rand.New(rand.NewPCG(w.Seed, uint64(i)+1))
		var arrivals []time.Duration
		if c.Period > 0 {
			streams := rates[i] * c.Period.Seconds()
			whole := int(streams)
			for s := 0; s <= whole; s++ {
				phase := time.Duration(r.Float64() * float64(c.Period))
				partial := s == whole
				for k := time.Duration(0); phase+k*c.Period < horizon; k++ {
					if partial && r.Float64() >= streams-float64(whole) {
						continue
					}
					at := phase + k*c.Period + time.Duration(r.Float64()*c.Jitter*float64(c.Period))
					if at < horizon {
						arrivals = append(arrivals, at)
					}
				}
			}
		} else {
			for at := time.Duration(0); ; {
				at += time.Duration(r.ExpFloat64() / rates[i] * 1e9)
				if at >= horizon {
					break
				}
				arrivals = append(arrivals, at)
			}
		}
		for _, at := range arrivals {
			t := &task{class: c, arrive: at, est: c.EstSteps}
			lo := int(math.Ceil(c.StepsMin * float64(c.EstSteps)))
			n := lo + r.IntN(c.EstSteps-lo+1)
			for range n {
				t.devT = append(t.devT, w.DeviceTime.Sample(r))
				t.infT = append(t.infT, w.InferTime.Sample(r))
			}
			switch {
			case c.BestEffort:
			case c.Period > 0:
				t.deadline = c.Deadline
				if t.deadline <= 0 {
					t.deadline = c.Period
				}
			default:
				f := c.SlackMin + r.Float64()*(c.SlackMax-c.SlackMin)
				t.deadline = time.Duration(f * float64(c.EstSteps) * stepMean)
			}
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b *task) int {
		switch {
		case a.arrive < b.arrive:
			return -1
		case a.arrive > b.arrive:
			return 1
		}
		return 0
	})
	for i, t := range out {
		t.id = fmt.Sprintf("%s-%05d", t.class.Name, i)
	}
	return out, horizon, nil
}
