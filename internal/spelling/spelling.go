// Package spelling finds what a mistyped name was meant to be, for "did you mean"
// hints in config, CEL and IAM error messages.
package spelling

import (
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate an unknown field name was most likely meant to be, or "".
// A candidate qualifies when it differs only in case, when one name contains the other
// (ignoring case), or when its edit distance is at most a third of the name's length (at
// least 1, at most 3). Ties go to the candidate listed first. Containment needs four letters
// on both sides.
func Suggest(name string, candidates []string) string {
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if strings.ToLower(c) == lower {
			return c
		}
	}
	best, bestDist := "", 0
	n := utf8.RuneCountInString(name)
	limit := min(max(n/3, 1), 3)
	for _, c := range candidates {
		if d := n - utf8.RuneCountInString(c); d > limit || -d > limit {
			continue // the distance is at least the difference in length (and huge keys stay cheap)
		}
		dist := Distance(lower, strings.ToLower(c))
		if dist <= limit && (best == "" || dist < bestDist) {
			best, bestDist = c, dist
		}
	}
	if best != "" {
		return best
	}
	if len(lower) >= 4 {
		for _, c := range candidates {
			if lc := strings.ToLower(c); len(lc) >= 4 && (strings.Contains(lc, lower) || strings.Contains(lower, lc)) {
				return c
			}
		}
	}
	return ""
}

// Distance is the edit distance (insertions, deletions, substitutions) between a and b,
// counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
