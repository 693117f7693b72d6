// Package awsmeta serves AWS credentials to unmodified workloads on the two local
// endpoints every AWS SDK and the CLI already read: an IMDSv2 emulation and the
// container credentials endpoint.
//
// # IMDSv2 (NewIMDS)
//
// Workloads point at it with AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT.
// Only the session-token flow is served (IMDSv2-only, like a hardened instance):
//
//	PUT /latest/api/token                      X-aws-ec2-metadata-token-ttl-seconds: 1..21600
//	GET /latest/meta-data/iam/security-credentials[/]      -> the role name
//	GET /latest/meta-data/iam/security-credentials/ROLE    -> credential JSON
//	GET /latest/meta-data/placement/region[/]
//	GET /latest/meta-data/placement/availability-zone[/]
//	GET /latest/meta-data/instance-id[/]                    (when configured)
//	GET /latest/dynamic/instance-identity/document          (region, AZ, instance id)
//
// The token reply echoes the TTL header (aws-sdk-go-v2 cannot parse a token without
// it). A GET without a valid, unexpired X-aws-ec2-metadata-token answers 401 before
// the path is looked at, so unauthenticated callers learn nothing about what is
// served. Any request carrying X-Forwarded-For or Forwarded answers 403: EC2 does
// this for token requests so that a proxy on the host cannot relay metadata.
//
// Session tokens are stateless: base64url(version || expiry || HMAC-SHA256(key,
// version || expiry)), with a 32-byte key drawn once per handler from
// IMDSOptions.Rand. Nothing is stored per token, so token requests cannot exhaust
// memory; the price is that a token cannot be revoked before it expires (restarting
// the agent, which draws a new key, revokes them all). A token whose expiry lies
// further ahead than MaxTokenTTL (a clock step backwards) is refused.
//
// # Container credentials (NewContainer)
//
// Workloads point at it with AWS_CONTAINER_CREDENTIALS_FULL_URI (any path is
// served) plus AWS_CONTAINER_AUTHORIZATION_TOKEN or
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE. The SDKs send the token verbatim as the
// Authorization header; the handler compares SHA-256 digests of the expected and
// presented values in constant time. A token file is re-read when its identity,
// size or modification time changes (Kubernetes swaps projected files by symlink).
// A token containing CR or LF, including a trailing newline, is refused: every AWS
// SDK refuses to send such a value, so accepting it would only hide a broken
// deployment (the protocol notes §4.2). Errors are exact application/json
// {"code","message"} bodies, the only error shape aws-sdk-go-v2 decodes.
//
// # Credentials
//
// Both handlers call the injected aws.CredentialsProvider (normally the agent's
// refreshing cache) on every credential request and never cache themselves.
// Expiration is written as YYYY-MM-DDTHH:MM:SSZ (botocore parses exactly that).
// Credentials that cannot expire are given an expiration one hour ahead, since
// botocore and the JavaScript SDK require the field; the clients then simply ask
// again. Expired or incomplete credentials, and provider errors, answer 500 with
// no detail; the cause is logged. Secrets and tokens are never logged.
//
// # Deployment
//
// Bind both listeners to loopback (or the ECS/EKS link-local addresses); the
// aws-sdk-go-v2 refuses plain-http container endpoints elsewhere. No SDK reads the
// region from IMDS by default, so the agent should also export AWS_REGION.
package awsmeta
