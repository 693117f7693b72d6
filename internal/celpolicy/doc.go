// Package celpolicy compiles and evaluates a workload identity provider's
// attributeMapping and attributeCondition in Google's CEL dialect.
//
// # Model
//
// A provider maps the claims of a verified credential (the assertion) to
// attributes, then filters credentials with a boolean condition:
//
//	m, errs := celpolicy.CompileMapping(provider.AttributeMapping, opts) // config load
//	c, err := celpolicy.CompileCondition(provider.AttributeCondition, opts)
//	attrs, trace, err := m.Evaluate(claims) // per request; err => deny
//	res, err := c.Evaluate(claims, attrs)   // deny unless err == nil && res.Allowed
//
// Compiled values are immutable and safe for concurrent use. Every failure
// denies: a missing claim, a wrong type, an invalid extract() template, a
// cost overrun. Nothing here allows by default.
//
// # Mapping
//
// Keys are google.subject (required), google.groups and attribute.NAME
// (NAME: [a-z0-9_]{1,100}, at most 50). Expressions see one variable,
// assertion: the claims as a map (nested objects are maps, arrays are lists,
// JSON numbers are int when integral and within int64, uint when within
// uint64, else double). Each expression (at most 2048 characters) must produce
// a string or a list of strings; dyn results are checked at evaluation. A
// scalar int, uint, double or bool result is converted to its CEL string form,
// so numeric claims such as GitLab's runner_id (1 -> "1") can be mapped
// directly; null, maps, bytes and lists with non-string elements are errors.
// google.subject must be a non-empty string of at most 127 bytes; all mapped
// values together are at most 8 KiB.
//
// # Condition
//
// The condition (at most 4096 characters) must type-check to bool. It sees
// assertion, google (subject, and groups when mapped) and attribute
// (attribute.NAME is a string, or a list when its expression produced a list).
// References to google fields other than subject and groups, and malformed
// attribute names, are compile errors; CheckMapping reports attributes the
// mapping does not produce.
//
// For explain and audit, the condition's top-level && operands are its
// clauses, kept verbatim from the source. On a denial each clause is
// evaluated separately and FailedClause names the first false one (or the
// first that failed); a top-level || or ?: makes the whole condition one
// clause.
//
// # Functions
//
// Standard CEL (size, startsWith, endsWith, contains, matches (RE2), in,
// has(), exists/all/map/filter, ?:), cel-go's ext.Strings and ext.Encoders,
// and Google's string.extract(template). A template is a literal prefix, one
// {name} placeholder ([A-Za-z0-9_]+) and a literal suffix, with no other
// brace. extract returns the text between the first occurrence of the prefix
// and the next occurrence of the suffix after it (to the end when the suffix
// is empty), and "" when either is absent:
//
//	'arn:aws:sts::123:assumed-role/r/s'.extract('assumed-role/{role}/') == 'r'
//	'arn:aws:sts::123:assumed-role/r/s'.extract('{account}assumed-role/') == 'arn:aws:sts::123:'
//
// An invalid literal template is a compile error; an invalid computed one is
// an evaluation error. Nothing reads the clock or other ambient state.
//
// # Cost
//
// Options.CostLimit (default 100000) bounds each expression's CEL runtime
// cost and the running total of a mapping's expressions and of a condition's
// clause traces. Evaluations also stop when their context is cancelled.
package celpolicy
