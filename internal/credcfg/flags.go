package credcfg

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseHeaders parses a --credential-source-headers value the way gcloud's
// dict flags do: KEY=VALUE items separated by commas, or by D when the
// value starts with ^D^ (for example "^;^a=1,2;b=3"); a value may contain
// '=' and may be empty; one trailing separator is ignored. The result keeps
// the given order, including repeated names (Generate merges them as gcloud
// does). An empty flag gives no headers. Errors never repeat header values.
func ParseHeaders(flag string) ([]Header, error) {
	if flag == "" {
		return nil, nil
	}
	delim := ","
	if rest, ok := strings.CutPrefix(flag, "^"); ok && strings.Contains(rest, "^") {
		delim, flag, _ = strings.Cut(rest, "^")
		if delim == "" {
			return nil, headerErr("empty delimiter in ^D^ syntax")
		}
	}
	if flag == "" {
		return nil, nil
	}
	if !strings.HasSuffix(flag, delim) {
		flag += delim
	}
	items := strings.Split(flag, delim)
	items = items[:len(items)-1]
	out := make([]Header, 0, len(items))
	for i, item := range items {
		name, value, ok := strings.Cut(item, "=")
		switch {
		case item == "":
			return nil, headerErr(fmt.Sprintf("item %d is empty", i+1))
		case name == "":
			return nil, headerErr(fmt.Sprintf("item %d has no name before '='", i+1))
		case !ok:
			return nil, headerErr(fmt.Sprintf("item %d (%s) is not KEY=VALUE", i+1, quote(name)))
		}
		out = append(out, Header{Name: name, Value: value})
	}
	return out, nil
}

func headerErr(msg string) error {
	var p problems
	p.add(FlagCredentialSourceHeaders, ErrValue, msg)
	return p.err()
}

// ParseTokenLifetime parses a --service-account-token-lifetime-seconds
// value: whole seconds ("1800") or a duration ("30m", "1h30m", "2700s").
// The result is checked against 600..43200 seconds. gcloud also accepts
// ISO 8601 forms ("PT30M") and fractional seconds, which keyless refuses.
func ParseTokenLifetime(s string) (int, error) {
	return parseDurationFlag(FlagServiceAccountTokenLifetimeSeconds, s, time.Second, MinTokenLifetimeSeconds, MaxTokenLifetimeSeconds)
}

// ParseExecutableTimeout parses an --executable-timeout-millis value:
// whole milliseconds ("5000") or a duration ("5s", "1m", "1500ms"),
// checked against 5000..120000 ms.
func ParseExecutableTimeout(s string) (int, error) {
	return parseDurationFlag(FlagExecutableTimeoutMillis, s, time.Millisecond, MinExecutableTimeoutMs, MaxExecutableTimeoutMs)
}

func parseDurationFlag(flag, s string, unit time.Duration, lo, hi int) (int, error) {
	fail := func(msg string) (int, error) {
		var p problems
		p.add(flag, ErrValue, msg)
		return 0, p.err()
	}
	var n int64
	if isDigits(s) {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fail(quote(s) + " is too large")
		}
		n = v
	} else {
		d, err := time.ParseDuration(strings.ToLower(s))
		if err != nil || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			return fail(quote(s) + " is not a number or a duration such as 30m or 90s")
		}
		if d%unit != 0 {
			return fail(quote(s) + " is not a whole number of " + unitName(unit))
		}
		n = int64(d / unit)
	}
	if n < int64(lo) || n > int64(hi) {
		return fail(fmt.Sprintf("%s is outside %d..%d %s", quote(s), lo, hi, unitName(unit)))
	}
	return int(n), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func unitName(u time.Duration) string {
	if u == time.Millisecond {
		return "milliseconds"
	}
	return "seconds"
}
