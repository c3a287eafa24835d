package vgpu

import "time"

// budget is a slice's constant-bandwidth server: quota of GPU time per
// period. Time spent beyond the credit left is debt that the next periods
// repay; unused credit is not saved up. Commands run on lent idle capacity
// are counted in lent and charged nothing.
type budget struct {
	quota time.Duration // compute share × period
	share float64       // compute share, 0–1

	period   int64         // index of the current period
	credit   time.Duration // left in the current period; negative is debt
	reserved time.Duration // estimates of the budgeted commands in flight

	periodUsed, periodLent time.Duration // in the current period
	used, lent             time.Duration // since the slice was made
}

func newBudget(percent int, period time.Duration, idx int64) budget {
	b := budget{period: idx}
	b.setShare(percent, period)
	b.credit = b.quota
	return b
}

// setShare changes the share live; the credit of the current period is
// adjusted by the difference, so the change applies at once.
func (b *budget) setShare(percent int, period time.Duration) {
	q := time.Duration(int64(period) * int64(percent) / 100)
	b.credit += q - b.quota
	b.quota = q
	b.share = float64(percent) / 100
}

// roll moves the budget to period idx: every period that passed repays
// one quota of debt, and the credit never exceeds one quota.
func (b *budget) roll(idx int64) {
	if idx <= b.period {
		return
	}
	n := idx - b.period
	b.period = idx
	b.periodUsed, b.periodLent = 0, 0
	if b.credit >= 0 || n >= int64(1<<62)/int64(max(b.quota, 1)) {
		b.credit = b.quota
		return
	}
	b.credit = min(b.credit+time.Duration(n)*b.quota, b.quota)
}

// eligible reports whether the slice may start a command on its own
// budget.
func (b *budget) eligible() bool { return b.credit-b.reserved > 0 }

// reserve holds est of the credit for a budgeted command starting.
func (b *budget) reserve(est time.Duration) { b.reserved += est }

// charge accounts a finished command that cost cost of GPU time and had
// est reserved; lent commands are charged nothing.
func (b *budget) charge(cost, est time.Duration, lent bool) {
	if lent {
		b.lent += cost
		b.periodLent += cost
		return
	}
	b.reserved -= est
	b.credit -= cost
	b.used += cost
	b.periodUsed += cost
}

// lendWeight orders slices for lending idle capacity: the slice that got
// the least GPU time this period relative to its share borrows first.
func (b *budget) lendWeight() float64 {
	return float64(b.periodUsed+b.periodLent) / max(b.share, 0.0001)
}
