package awspolicy

import "unicode/utf8"

// globMatch reports whether s matches pattern, where '*' matches any run of
// characters (possibly empty) and '?' exactly one character (one UTF-8
// sequence, or one byte of invalid UTF-8). There is no escaping and the match
// is anchored at both ends and case-sensitive.
//
// It is greedy with a single restart point (the last '*'), so it never
// backtracks exponentially: the worst case is O(len(pattern)·len(s)).
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[sx:])
				px++
				sx += n
				continue
			default:
				// Compare whole characters so that invalid UTF-8 on either
				// side never matches part of a multi-byte sequence.
				if c < utf8.RuneSelf && c == s[sx] {
					px++
					sx++
					continue
				}
				_, pn := utf8.DecodeRuneInString(pattern[px:])
				_, sn := utf8.DecodeRuneInString(s[sx:])
				if c >= utf8.RuneSelf && pn == sn && pattern[px:px+pn] == s[sx:sx+sn] {
					px += pn
					sx += sn
					continue
				}
			}
		}
		if starPx < 0 {
			return false
		}
		// Let the last '*' absorb one more character and retry after it.
		_, n := utf8.DecodeRuneInString(s[starSx:])
		starSx += n
		px, sx = starPx+1, starSx
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
