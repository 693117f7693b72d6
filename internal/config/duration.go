package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a duration in the JSON form of google.protobuf.Duration, as the
// Google APIs write it: whole seconds with up to nine fractional digits, then "s" ("3600s",
// "1.5s"). Signs, exponents and Go's "1h" units are refused.
func ParseDuration(s string) (time.Duration, error) {
	num, ok := strings.CutSuffix(s, "s")
	if !ok || num == "" {
		return 0, errors.New(`not a duration: expected seconds followed by "s", such as "3600s"`)
	}
	whole, frac, hasFrac := strings.Cut(num, ".")
	if whole == "" || !allDigits(whole) || (hasFrac && (frac == "" || len(frac) > 9 || !allDigits(frac))) {
		return 0, errors.New(`not a duration: expected seconds followed by "s", such as "3600s"`)
	}
	secs, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || secs > int64(time.Duration(1<<63-1)/time.Second)-1 {
		return 0, errors.New("duration out of range")
	}
	d := time.Duration(secs) * time.Second
	if hasFrac {
		ns, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		d += time.Duration(ns)
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
