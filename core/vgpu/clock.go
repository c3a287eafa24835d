package vgpu

import "time"

// Clock tells the time for budget periods and measured GPU time. The
// default is the wall clock; a simulation passes a virtual one.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
