// Package audit records keyless's decisions: every token exchange,
// impersonation and refusal becomes one typed, versioned Event.
//
// Model:
//
//   - An Event is the whole story of one decision, keyed by a decision id
//     (NewDecisionID: 26-character, time-sortable, the id the client also
//     receives). Its JSON form (version "v": 1) is what the store keeps and
//     what the JSON-lines sink writes.
//   - Tokens never appear in an event. Fields carry TokenHash values (hex
//     SHA-256) instead, and as a second line of defence the Writer replaces
//     anything shaped like a compact JWS/JWE in free-text fields with its
//     hash before the event is encoded.
//   - A Writer group-commits: one goroutine drains the queue and writes every
//     pending event in a single store transaction, then wakes all waiters
//     with the result. Record returns only when its event is durable (or
//     failed), so a caller can refuse to release a token whose decision was
//     not audited. One fsync serves a whole batch, which keeps durable
//     auditing cheap under load.
package audit
