// Package explain renders decision traces for people: `keyless explain`, `keyless demo`
// and anyone reading an audit event. The trace comes from the same pipeline that made
// (or would make) the decision; this package only formats it.
//
// A trace is a list of stages (provider, credential, attribute_condition, authorize,
// trust_policy, ...), each ok or failed, with a detail, optional structured data and a
// fix. Structured data is rendered by shape: lists of items (mapped attributes,
// condition clauses, bindings) one per line; the AWS trust-policy evaluation as the
// condition keys of the request followed by every statement and condition with the
// request values against the policy values. Events of the AWS dialect also show their
// CloudTrail-shaped fields (identity, request, response, error).
//
// Output is deterministic: map keys are sorted, and nothing depends on map order.
// Tokens never reach this package (audit events hold hashes only).
package explain
