package refresh

import (
	"math"
	"time"
)

// refreshTime returns when to refresh a credential fetched at fetched, expiring at expiry,
// accepted at end; r in [0, 1) draws the jitter. See doc.go for the rules.
func (c *config) refreshTime(fetched, expiry, end time.Time, r float64) time.Time {
	life := expiry.Sub(fetched)
	at := fetched.Add(scale(life, c.refreshAt*(1+c.jitter*(2*r-1))))

	// Never later than the end of the usable window minus room for the fetch and one retry.
	usableUntil := expiry.Add(-c.margin)
	if usable := usableUntil.Sub(fetched); usable > 0 {
		buffer := max(min(c.fetchTimeout+c.minBackoff, usable/3), 1)
		if latest := usableUntil.Add(-buffer); at.After(latest) {
			at = latest
		}
	} else {
		at = end // already inside the margin: refresh as soon as the floor allows
	}
	// Never sooner than MinBackoff after the fetch completed: no tight loop on short lifetimes.
	if floor := end.Add(c.minBackoff); at.Before(floor) {
		at = floor
	}
	return at
}

// backoff returns the delay before retry number n ≥ 1 after consecutive failures: full jitter
// over [MinBackoff, min(MaxBackoff, MinBackoff·2^(n−1))).
func (c *config) backoff(n int64, r float64) time.Duration {
	ceiling := c.minBackoff
	for i := int64(1); i < n && ceiling < c.maxBackoff; i++ {
		if ceiling > c.maxBackoff/2 {
			ceiling = c.maxBackoff
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, c.maxBackoff)
	return c.minBackoff + scale(ceiling-c.minBackoff, r)
}

// retryTime returns when to retry after the n-th consecutive failure, which ended at end.
// While a cached credential is usable until usableUntil (haveUsable), a retry that would land
// after it is pulled forward to halfway through the remaining time (at least MinBackoff
// away), so there is always another attempt before the credential stops being served.
func (c *config) retryTime(n int64, end, usableUntil time.Time, haveUsable bool, r float64) time.Time {
	at := end.Add(c.backoff(n, r))
	if !haveUsable {
		return at
	}
	room := usableUntil.Sub(end)
	if room > c.minBackoff && !at.Before(usableUntil) {
		at = end.Add(max(c.minBackoff, room/2))
	}
	return at
}

// scale returns d·f for f ≥ 0, saturating instead of overflowing.
func scale(d time.Duration, f float64) time.Duration {
	v := float64(d) * f
	switch {
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(v)
}
