package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond},
		{100, 100 * time.Millisecond}, {0.001, time.Millisecond}, {99.5, 100 * time.Millisecond}} {
		if got := percentile(l, tc.p); got != tc.want {
			t.Errorf("percentile(1..100ms, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("percentile of one = %v, want 7", got)
	}
}

const sampleMetrics = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.34
process_cpu_seconds_total_extra 99
keyless_exchanges_total{outcome="allow"} 5
`

func TestParseMetric(t *testing.T) {
	t.Parallel()
	v, err := parseMetric([]byte(sampleMetrics), "process_cpu_seconds_total")
	if err != nil || v != 12.34 {
		t.Fatalf("got %v, %v; want 12.34", v, err)
	}
	if v, err := parseMetric([]byte("m 1.5e3 1700000000000\n"), "m"); err != nil || v != 1500 {
		t.Fatalf("with timestamp: got %v, %v; want 1500", v, err)
	}
	for name, text := range map[string]string{
		"absent":       "# TYPE x counter\nx 1\n",
		"labelled":     `process_cpu_seconds_total{a="b"} 1` + "\n",
		"longer name":  "process_cpu_seconds_total_extra 1\n",
		"bad value":    "process_cpu_seconds_total abc\n",
		"no value":     "process_cpu_seconds_total \n",
		"NaN":          "process_cpu_seconds_total NaN\n",
		"Inf":          "process_cpu_seconds_total +Inf\n",
		"extra fields": "process_cpu_seconds_total 1 2 3\n",
	} {
		if v, err := parseMetric([]byte(text), "process_cpu_seconds_total"); err == nil {
			t.Errorf("%s: got %v, want an error", name, v)
		}
	}
}

func FuzzParseMetric(f *testing.F) {
	f.Add([]byte(sampleMetrics))
	f.Add([]byte("process_cpu_seconds_total 0\n"))
	f.Add([]byte("process_cpu_seconds_total\t1e-3 17\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseMetric(b, "process_cpu_seconds_total")
		if err == nil && (v != v || v > 1e308 || v < -1e308) {
			t.Fatalf("accepted non-finite %v", v)
		}
	})
}

const sampleStat = "4242 (keyless) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1500 250 0 0 20 0 9 0 100 0 0\n"

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	if got, err := parseProcStat([]byte(sampleStat)); err != nil || got != 1750 {
		t.Fatalf("got %d, %v; want 1750", got, err)
	}
	tricky := "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 1234 0 0 0 7 3 0 0 20 0 9 0 100\n"
	if got, err := parseProcStat([]byte(tricky)); err != nil || got != 10 {
		t.Fatalf("command with ') ': got %d, %v; want 10", got, err)
	}
	for name, s := range map[string]string{
		"empty":      "",
		"no paren":   "4242 keyless S 1 2 3",
		"short":      "4242 (keyless) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1500",
		"bad utime":  "4242 (keyless) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 250 0",
		"bad stime":  "4242 (keyless) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1 -2 0",
		"overflow":   "4242 (keyless) S 1 4242 4242 0 -1 4194560 1234 0 0 0 18446744073709551615 1 0",
		"negative u": "4242 (keyless) S 1 4242 4242 0 -1 4194560 1234 0 0 0 -1 1 0",
	} {
		if got, err := parseProcStat([]byte(s)); err == nil {
			t.Errorf("%s: got %d, want an error", name, got)
		}
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte(sampleStat))
	f.Add([]byte("1 (a) b) S 1 2 3 4 5 6 7 8 9 10 11 12 13"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseProcStat(b) // must not panic
	})
}

func TestParseListenLine(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"keyless listening on http://127.0.0.1:43210":    "http://127.0.0.1:43210",
		"keyless listening on http://127.0.0.1:43210/\n": "http://127.0.0.1:43210",
		"keyless listening on http://[::1]:8080":         "http://[::1]:8080",
		"keyless listening on http://localhost:8080":     "http://localhost:8080",
	} {
		if got, ok := parseListenLine(line); !ok || got != want {
			t.Errorf("%q: got %q, %v; want %q", line, got, ok, want)
		}
	}
	for _, line := range []string{
		"", "time=... level=INFO msg=started",
		"keyless listening on ",
		"keyless listening on http://10.0.0.1:8080",
		"keyless listening on https://127.0.0.1:8080",
		"keyless listening on http://127.0.0.1:8080/prefix",
		"keyless listening on http://user@127.0.0.1:8080",
		"keyless listening on http://127.0.0.1:8080?x=1",
		"keyless listening on http://example.com:8080",
		"Keyless listening on http://127.0.0.1:8080",
	} {
		if got, ok := parseListenLine(line); ok {
			t.Errorf("%q: accepted as %q", line, got)
		}
	}
}

func FuzzParseListenLine(f *testing.F) {
	f.Add("keyless listening on http://127.0.0.1:43210")
	f.Add("keyless listening on http://[::1]:1/")
	f.Add("keyless listening on http://evil.example@127.0.0.1/")
	f.Fuzz(func(t *testing.T, line string) {
		u, ok := parseListenLine(line)
		if !ok {
			return
		}
		if _, err := checkLoopbackURL(u); err != nil {
			t.Fatalf("accepted %q as %q, which is not a loopback URL: %v", line, u, err)
		}
	})
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != 10*time.Second || o.concurrency != 16 || o.mode != "sts" || o.serverURL != "" {
		t.Fatalf("defaults: %+v", o)
	}
	o, err = parseFlags([]string{"-server", "http://localhost:8080/", "-issuer-addr", "127.0.0.1:9911", "-mode", "impersonate"}, io.Discard)
	if err != nil || o.serverURL != "http://localhost:8080" || o.mode != "impersonate" {
		t.Fatalf("server mode: %+v, %v", o, err)
	}
	for _, m := range []string{"assume-role", "aws4"} {
		if o, err := parseFlags([]string{"-mode", m}, io.Discard); err != nil || o.mode != m {
			t.Errorf("-mode %s: %+v, %v", m, o, err)
		}
	}
	for _, args := range [][]string{
		{"-duration", "0s"}, {"-duration", "6m"}, {"-concurrency", "0"}, {"-concurrency", "5000"},
		{"-mode", "aws"}, {"-mode", "AWS4"}, {"-mode", ""}, {"-tokens", "0"}, {"-max-requests", "0"}, {"-floor-iterations", "1"},
		{"-server", "http://192.0.2.1:8080", "-issuer-addr", "127.0.0.1:9911"},
		{"-server", "https://127.0.0.1:8080", "-issuer-addr", "127.0.0.1:9911"},
		{"-server", "http://127.0.0.1:8080"}, // issuer port must be fixed
		{"-print-config"},
		{"-issuer-addr", "0.0.0.0:0"},
		{"-issuer-addr", "nonsense"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	var stderr strings.Builder
	if code := run([]string{"-concurrency", "-1"}, io.Discard, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "-concurrency") {
		t.Fatalf("stderr %q does not name the flag", stderr.String())
	}
}
