// Package demo is `keyless demo`: a server on loopback with embedded storage and a demo
// federation, real exchanges through the HTTP APIs with real clients, each outcome
// printed with its explanation.
//
// The federation: test issuers shaped like GitHub Actions and a Kubernetes cluster
// (the latter over HTTPS, its certificate trusted through server.issuerCAFile); a Google
// pool with a provider for each and one for AWS account AWSAccountID; and that AWS
// account, whose IAM OIDC provider is the Kubernetes issuer and whose role
// eks/checkout-writer admits system:serviceaccount:shop:checkout.
//
// Every scenario states its expected outcome; an outcome that differs is printed as
// UNEXPECTED and counted in Demo.Failures, which makes `keyless demo --once` exit
// non-zero.
package demo
