// Package refresh keeps the agent's credentials fresh and serves them from memory.
//
// # Model
//
// A Cache holds one credential for one pipeline (for example the GCE access token, or the
// AWS role credentials). A FetchFunc obtains a new one by exchanging the workload's identity.
// Readers call Get; a background loop (Run) fetches ahead of expiry. Every metadata endpoint
// of the agent reads from these caches, so a request never waits on upstream while a usable
// credential is cached.
//
// A credential is usable while now < Expiry − ExpiryMargin. Get on a usable credential is an
// atomic pointer load and a clock read: no lock, no allocation, never blocked by a fetch in
// progress. Without a usable credential Get joins the fetch in flight or starts one and waits
// for it, bounded by its own context. Fetches are single-flight per Cache: Run, Refresh and
// Get share the one in flight. A fetch started by Get or Refresh is detached from the
// caller's context (values kept, cancellation not) and bounded by FetchTimeout, so one caller
// giving up does not fail the others. A fetch started by Run is cancelled when Run stops.
//
// # Schedule
//
// After a successful fetch completing at time end, for a credential with lifetime
// L = Expiry − Fetched, the next refresh is at
//
//	Fetched + RefreshAt·L·(1 ± Jitter)            (uniform jitter)
//	  but no later than Expiry − ExpiryMargin − min(FetchTimeout+MinBackoff, usable/3)
//	  and no sooner than end + MinBackoff
//
// where usable = Expiry − ExpiryMargin − Fetched. A credential that is already inside its
// margin is therefore refetched every MinBackoff, never in a tight loop.
//
// After the n-th consecutive failure the retry waits MinBackoff + r·(C − MinBackoff) with r
// uniform in [0, 1) and C = min(MaxBackoff, MinBackoff·2^(n−1)): "full jitter" above a floor
// of MinBackoff. The current credential keeps being served while usable. If the retry would
// land after the credential stops being usable and more than MinBackoff remains, it is
// pulled forward to halfway through the remaining usable time (at least MinBackoff away), so
// there is always another attempt before the credential stops being served.
//
// A fetch that returns a credential whose Expiry is not after the completion time (including
// a zero Expiry) is a failure (ErrExpiredCredential); so is a panic in Fetch (ErrFetchPanic).
// A failed attempt never replaces the cached credential.
//
// Get without a usable credential does not start a new fetch within MinBackoff of the end of
// the previous attempt: it returns that attempt's error (*UnavailableError), or, if that
// attempt succeeded with a credential that is inside its margin but not expired, that
// credential. Callers hammering an unavailable credential thus cost at most one upstream
// call per MinBackoff.
//
// When no Run loop is active (as for Group members), a Get that finds a usable credential
// past its refresh time starts a background fetch and returns the cached credential at once
// ("refresh ahead on access"); the same backoff applies.
//
// # Group
//
// A Group holds lazily created caches keyed by a string taken from requests (scopes, an
// ID-token audience). It caches at most MaxKeys keys and drops keys not read for IdleTTL, so
// request parameters cannot grow memory without bound. When full, a new key is served
// without caching (its concurrent callers still share one fetch); existing keys are never
// evicted for it. The caller bounds key length (request size limits).
//
// # Observability
//
// Status reports validity, expiry, age, last attempt and success, next refresh, counts and
// the last error; Options.OnEvent receives one Event per completed attempt for metrics and
// logs. Neither ever contains the credential value. Fetch errors are recorded verbatim, so
// FetchFuncs must not put secrets in them.
//
// All times come from Options.Now and Run's timers from Options.After, so tests drive the
// schedule with a fake clock; FetchTimeout runs on the real clock.
package refresh
