// Package google is the Google Cloud dialect: the STS token endpoint (/v1/token and
// /v1/introspect) and the IAM Credentials methods, on the wire exactly as gcloud,
// google-auth-library, golang.org/x/oauth2 and google-auth (Python) speak them
// (../shared/reference/google-protocol.md §0.1 lists the rules each client relies on).
//
// Handlers only translate: parse the request into an exchange type, call the Engine,
// render the result or the *exchange.Error in Google's error shape.
package google
