// Command loadtest measures keyless under load on loopback and compares the server's CPU
// per exchange with the crypto floor measured in the same run.
//
//	go run ./tools/loadtest [-duration 10s] [-concurrency 16] [-mode sts|impersonate|assume-role|aws4] [-server URL]
//
// By default it starts everything itself: a loopback test OIDC issuer (RS256), and a
// `keyless serve` child process built from this module, configured with the standard
// test federation (issuer keys pinned with jwksJson, a three-attribute mapping, a
// condition) plus its AWS side (keylesstest.WithAWS: an IAM OIDC provider for the
// issuer, a role with a trust policy, a Google aws provider) and a fresh data
// directory. It then
//
//  1. pre-mints a pool of distinct subject tokens; with -mode aws4 it first obtains a
//     few AWS session credentials with AssumeRoleWithWebIdentity and signs a pool of
//     GetCallerIdentity requests with them (aws-sdk-go-v2's SigV4 signer, serialized as
//     golang.org/x/oauth2/google/externalaccount does; x-amz-date is spread over the
//     last few minutes, so a pool signed at the start stays inside SigV4's 15-minute
//     window for the longest run, 5 minutes);
//  2. warms up, then measures the crypto floor in-process over this run's real tokens:
//     sts: RS256 verify (2048) + ES256 sign; impersonate: ES256 verify + ES256 sign;
//     assume-role: RS256 verify + AES-256-GCM seal of the session payload + HKDF-SHA256;
//     aws4: AES-256-GCM open + HKDF-SHA256 + SigV4 (SHA-256 and 5 HMACs, checked
//     against the real signature) + ES256 sign;
//  3. drives, from C workers over keep-alive connections for the duration, recording
//     every latency and status code: POST /v1/token (form-encoded, as the Google client
//     libraries send it) with OIDC tokens (sts) or aws4_request subject tokens (aws4);
//     generateAccessToken (impersonate); or POST / AssumeRoleWithWebIdentity as
//     aws-sdk-go-v2 sends it (assume-role; a success is a 200 with an ASIA access key);
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
