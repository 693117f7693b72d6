// Package gcemeta emulates the Google Compute Engine metadata server, so that
// unmodified workloads using Application Default Credentials (Go
// cloud.google.com/go/compute/metadata and golang.org/x/oauth2/google, Python
// google-auth, Node google-auth-library/gcp-metadata, gcloud) obtain tokens
// from the keyless agent.
//
// # Model
//
// [NewHandler] turns static [Options] (project, instance facts, service
// accounts) into an immutable tree of metadata entries rooted at
// /computeMetadata/v1/. Directories answer with a listing (one entry per line,
// subdirectories with a trailing slash) or, with ?recursive=true, with a JSON
// object whose keys are camelCased as the real server does
// ("numericProjectId", "serviceAccounts"). Leaves answer with their text, or
// JSON with ?alt=json. Two leaves per account are dynamic and never part of a
// recursive answer: token (an OAuth access token from [Tokens.AccessToken])
// and identity (an ID token from [Tokens.IDToken]). Accounts[0] is reachable
// as "default" and by its email; the others by email only.
//
// Workloads point their SDKs at the handler with GCE_METADATA_HOST=HOST:PORT
// (Go, Python, Node), GCE_METADATA_IP=HOST:PORT (Python's probe and Node) and
// GCE_METADATA_ROOT=HOST:PORT (gcloud).
//
// # Request rules
//
//   - Every response carries "Metadata-Flavor: Google"; Node checks it on all
//     responses, Go and Python on the probe.
//   - Requests under /computeMetadata/ must carry exactly one
//     "Metadata-Flavor: Google" header, otherwise 403. GET / is the only
//     exception: Go's OnGCE probe sends no flavor header, and the root listing
//     reveals nothing. The header is also what stops browsers (it forces a
//     CORS preflight, which is refused) and most server-side request forgery.
//   - Requests carrying X-Forwarded-For are refused with 403, as on GCE: they
//     were relayed by a proxy, so the flavor header may be attacker supplied.
//   - Only GET (and HEAD for static entries) is allowed; token and identity
//     are GET only.
//   - A directory requested without its trailing slash is redirected (301)
//     to the slash form with the query kept, as the real server does; a leaf
//     requested with a trailing slash is not found.
//   - ?wait_for_change=true is refused with 400: the values never change, and
//     answering immediately would make Go's Subscribe spin.
//
// Tokens are never logged; failures to obtain one answer 500 (which every SDK
// retries) with a fixed body, or 403 when the error wraps
// [ErrPermissionDenied] (which SDKs report at once instead of retrying).
package gcemeta
