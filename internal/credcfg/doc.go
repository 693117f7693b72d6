// Package credcfg writes Google "external_account" credential configuration
// files, the JSON that Google client libraries and gcloud read from
// GOOGLE_APPLICATION_CREDENTIALS to federate a workload identity. It backs
// `keyless create-cred-config`, which mirrors
// `gcloud iam workload-identity-pools create-cred-config` (gcloud 528).
//
// # Model
//
// Options holds gcloud's flags; Generate turns them into the file. Without
// keyless's extensions the output is byte for byte what gcloud writes:
// Python's json.dumps(indent=2) with gcloud's key order (universe_domain,
// type, audience, subject_token_type, token_url, credential_source, then
// service_account_impersonation_url [+ service_account_impersonation] or
// token_info_url), \uXXXX escapes for everything outside printable ASCII,
// '&', '<' and '>' unescaped, and no trailing newline. Tests compare against
// configs captured from gcloud and, when gcloud is installed, against gcloud
// run live.
//
// The extensions point a config at a keyless server instead of Google:
// TokenURL (token_url), TokenInfoURL (token_info_url), IAMCredentialsURL
// (the base of service_account_impersonation_url) or KeylessServer for all
// three. Nothing else in the file changes; in particular the audience keeps
// the literal //iam.googleapis.com/ form, because clients read the project
// number and workforce-ness from it. A custom token_url without impersonation
// always comes with a matching token_info_url, so gcloud never sends a
// keyless-issued token to Google's introspection endpoint.
//
// # Validation
//
// Validate refuses what gcloud refuses (not exactly one source,
// --enable-imdsv2 without --aws, a lifetime without --service-account,
// out-of-range durations, a JSON format without a field name, …) and, as
// keyless's own rules, what gcloud silently ignores or would write into a
// config no client can use: flags that do not apply to the chosen source,
// audiences that are not a workload identity pool provider (parsed by
// package iam, project by number), malformed service account emails (the
// email is pasted into a URL), subject token types other than jwt, id_token
// and saml2 for file/URL/executable sources, control characters, non-HTTP
// header names, Azure app ID URIs that would break out of the IMDS query,
// and extension URLs that are not https (plain http is allowed on loopback
// only).
//
// Deliberate differences from gcloud: gcloud prepends //iam.googleapis.com/
// to whatever it is given, so an audience passed as //iam.googleapis.com/…
// comes out doubled; keyless accepts that form (and https://iam.googleapis.com/…)
// and writes the correct audience. gcloud exits 0 without writing a file on
// some errors; here every error is returned. gcloud's ISO 8601 and fractional
// durations are not accepted by ParseTokenLifetime/ParseExecutableTimeout.
//
// X.509 (--credential-cert-path) configs are supported: Generate writes the
// credential config and CertificateConfig the second file gcloud writes
// (cert and key paths). golang.org/x/oauth2 v0.37 cannot use certificate
// sources; other Google libraries can.
//
// Errors are *OptionError values (joined when there are several) that wrap
// ErrInvalidOptions and one of ErrSource, ErrConflict or ErrValue. They name
// the flag and never repeat header values, which may be credentials.
package credcfg
