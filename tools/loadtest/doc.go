// Command loadtest measures keyless under load on loopback and compares the server's CPU
// per exchange with the crypto floor measured in the same run.
//
//	go run ./tools/loadtest [-duration 10s] [-concurrency 16] [-mode sts|impersonate] [-server URL]
//
// By default it starts everything itself: a loopback test OIDC issuer (RS256), and a
// `keyless serve` child process built from this module, configured with the standard
// test federation (issuer keys pinned with jwksJson, a three-attribute mapping, a
// condition) and a fresh data directory. It then
//
//  1. measures the crypto floor in-process: RS256 verify (2048) + ES256 sign for the STS
//     exchange, ES256 verify + ES256 sign for generateAccessToken;
//  2. pre-mints a pool of distinct subject tokens;
//  3. drives POST /v1/token (form-encoded, as the Google client libraries send it), or
//     generateAccessToken with -mode impersonate, from C workers over keep-alive
//     connections for the duration, recording every latency and status code;
//  4. reads the server's process_cpu_seconds_total from /metrics before and after (and,
//     for the child, /proc/PID/stat as a cross-check);
//  5. prints throughput, latency percentiles, server CPU per request, the floor and the
//     ratio of the two.
//
// With -server URL it drives an already running keyless instead; that server must trust
// the tool's issuer, which -print-config describes (run the tool with the same
// -issuer-addr). Only loopback servers are accepted. The run is bounded by -duration and
// -max-requests; the child is stopped on exit and on SIGINT/SIGTERM. The exit status is
// non-zero when any request failed.
package main
