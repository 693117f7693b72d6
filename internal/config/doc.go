// Package config loads and validates keyless's declarative configuration (SPEC §3): one YAML
// or JSON document describing Google pools, providers and service accounts, AWS accounts and
// roles, Azure applications, the org policy and server settings. Field names follow the
// clouds' own REST resources, so a config reads like the APIs and `export` output.
//
// Reading a config has three stages, each of which reports every problem it finds rather than
// stopping at the first:
//
//  1. Parse walks the YAML node tree against the model's Go types (by their json tags) and
//     decodes it strictly. Unknown fields (with a "did you mean" suggestion), duplicate keys,
//     wrong types, several documents, custom tags and merge keys are problems with a line and
//     column. Aliases are allowed, but the nodes reached through them are counted and the walk
//     stops past a small budget, so a "billion laughs" document costs milliseconds. A document
//     that is valid JSON is read by a JSON tokenizer instead, because YAML parsers are not
//     complete JSON parsers (escaped surrogate pairs).
//  2. Validate checks the values: identifier syntax, uniqueness, the IAM API's limits, URL
//     schemes, org policy membership, inline JWKS key policy. It checks structure only; CEL
//     expressions, IAM members and AWS policy grammar are compiled by their own packages.
//  3. Load and LoadBytes run both and attach file, line and column to Validate's problems via
//     the field paths recorded during the walk.
//
// Problems are operator-facing: each says what was found, what is expected and where (the
// field path, e.g. google.projects[0].workloadIdentityPools[1].providers[0].attributeCondition).
// Limits are reported as "N characters, the limit is L".
//
// ApplyDefaults fills the values a file may leave out (issuer, signing algorithm, token
// lifetime, Azure audience, AWS role path and session duration); Marshal renders a config back
// to YAML in a stable order, and Parse(Marshal(c)) reproduces c.
package config
