package intent

import (
	"errors"
	"hash/fnv"

	"google.golang.org/protobuf/encoding/protowire"
)

// stateVersion is the first field of every encoded State; a state of
// another version is refused.
const stateVersion = 1

// State is the planner's progress, carried between steps in the opaque
// PlanRequest.state / PlanResponse.state bytes. It is encoded as protobuf
// wire format by hand (no generated code, no reflection), a few dozen
// bytes.
type State struct {
	// Instr is a hash of the instruction the state belongs to.
	Instr uint32
	// Goal is the index of the sub-goal in progress.
	Goal int
	// Steps is the number of actions taken for the current sub-goal.
	Steps int
	// Phase is the sub-goal's own progress marker (typed, submitted…).
	Phase int
	// Counters of the moves made for the current sub-goal, each bounded.
	Launches, Taps, Types, Scrolls, Backs int
	// Sig is the screen signature when the last action was chosen.
	Sig uint32
	// Base is a sub-goal value remembered from an earlier screen (the
	// brightness when a relative change began).
	Base int
	// Done counts the sub-goals completed.
	Done int
}

// nextGoal moves on to the next sub-goal, clearing per-goal progress.
func (s *State) nextGoal() {
	*s = State{Instr: s.Instr, Goal: s.Goal + 1, Done: s.Done + 1}
}

// ErrBadState is returned for state bytes this planner did not write.
var ErrBadState = errors.New("planner state is corrupt or from another planner")

// Field numbers of the encoded State.
const (
	fVersion protowire.Number = iota + 1
	fInstr
	fGoal
	fSteps
	fPhase
	fLaunches
	fTaps
	fTypes
	fScrolls
	fBacks
	fSig
	fBase
	fDone
)

// Marshal encodes the state.
func (s *State) Marshal() []byte {
	b := make([]byte, 0, 48)
	put := func(f protowire.Number, v uint64) {
		if v != 0 || f == fVersion {
			b = protowire.AppendTag(b, f, protowire.VarintType)
			b = protowire.AppendVarint(b, v)
		}
	}
	put(fVersion, stateVersion)
	put(fInstr, uint64(s.Instr))
	put(fGoal, uint64(s.Goal))
	put(fSteps, uint64(s.Steps))
	put(fPhase, uint64(s.Phase))
	put(fLaunches, uint64(s.Launches))
	put(fTaps, uint64(s.Taps))
	put(fTypes, uint64(s.Types))
	put(fScrolls, uint64(s.Scrolls))
	put(fBacks, uint64(s.Backs))
	put(fSig, uint64(s.Sig))
	put(fBase, protowire.EncodeZigZag(int64(s.Base)))
	put(fDone, uint64(s.Done))
	return b
}

// maxCounter bounds every decoded counter, so a forged state cannot make
// the planner index out of range or loop.
const maxCounter = 1 << 20

// UnmarshalState decodes a state written by Marshal.
func UnmarshalState(b []byte) (State, error) {
	var s State
	version := uint64(0)
	for len(b) > 0 {
		f, t, n := protowire.ConsumeTag(b)
		if n < 0 || t != protowire.VarintType {
			return State{}, ErrBadState
		}
		b = b[n:]
		v, m := protowire.ConsumeVarint(b)
		if m < 0 {
			return State{}, ErrBadState
		}
		b = b[m:]
		if f == fBase {
			z := protowire.DecodeZigZag(v)
			if z < -maxCounter || z > maxCounter {
				return State{}, ErrBadState
			}
			s.Base = int(z)
			continue
		}
		if f == fInstr || f == fSig {
			if v > 0xffffffff {
				return State{}, ErrBadState
			}
		} else if v > maxCounter {
			return State{}, ErrBadState
		}
		switch f {
		case fVersion:
			version = v
		case fInstr:
			s.Instr = uint32(v)
		case fGoal:
			s.Goal = int(v)
		case fSteps:
			s.Steps = int(v)
		case fPhase:
			s.Phase = int(v)
		case fLaunches:
			s.Launches = int(v)
		case fTaps:
			s.Taps = int(v)
		case fTypes:
			s.Types = int(v)
		case fScrolls:
			s.Scrolls = int(v)
		case fBacks:
			s.Backs = int(v)
		case fSig:
			s.Sig = uint32(v)
		case fDone:
			s.Done = int(v)
		}
	}
	if version != stateVersion {
		return State{}, ErrBadState
	}
	return s, nil
}

// instrHash identifies an instruction in the state.
func instrHash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
