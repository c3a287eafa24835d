package vgpu

// lane is a slice's in-process submission ring: the dispatcher submits
// admitted commands, the slice's consumer receives them in batches. Its
// capacity is at least Options.MaxInFlight, so a submit never waits.
type lane struct {
	ch chan *command
}

func newLane(entries int) *lane { return &lane{ch: make(chan *command, entries)} }

// submit puts an admitted command on the ring.
func (l *lane) submit(c *command) { l.ch <- c }

// close ends the consumer once the ring is drained.
func (l *lane) close() { close(l.ch) }

// receive blocks for one command, then takes those already waiting, up to
// max in all. It reports false once the ring is closed and empty.
func (l *lane) receive(buf []*command, max int) ([]*command, bool) {
	c, ok := <-l.ch
	if !ok {
		return buf, false
	}
	buf = append(buf, c)
	for len(buf) < max {
		select {
		case c, ok := <-l.ch:
			if !ok {
				return buf, true
			}
			buf = append(buf, c)
		default:
			return buf, true
		}
	}
	return buf, true
}
