package exchange

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/credential/oidc"
)

func TestAWSConditionKeys(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	gh := &AWSOIDCProvider{ARN: "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com", KeyPrefix: "token.actions.githubusercontent.com"}
	v := &oidc.Verified{Subject: "repo:acme/app:environment:prod", Audience: []string{"sts.amazonaws.com"}, Claims: map[string]any{
		"repository": "acme/app", "repository_id": json.Number("690000001"), "environment": "prod", "actor": "octocat",
		"amr": []any{"authenticated", "github"}, "unlisted": "x",
	}}
	k := awsConditionKeys(gh, v, "sess", "alice", map[string]string{"team": "platform"}, []string{"team"}, now, Meta{CallerIP: "127.0.0.1", Secure: true})
	want := map[string][]string{
		"token.actions.githubusercontent.com:aud":           {"sts.amazonaws.com"},
		"token.actions.githubusercontent.com:sub":           {"repo:acme/app:environment:prod"},
		"token.actions.githubusercontent.com:amr":           {"authenticated", "github"},
		"token.actions.githubusercontent.com:repository":    {"acme/app"},
		"token.actions.githubusercontent.com:repository_id": {"690000001"},
		"token.actions.githubusercontent.com:environment":   {"prod"},
		"token.actions.githubusercontent.com:actor":         {"octocat"},
		"aws:FederatedProvider":                             {gh.ARN},
		"sts:RoleSessionName":                               {"sess"},
		"aws:CurrentTime":                                   {"2026-11-23T01:00:00Z"},
		"aws:EpochTime":                                     {"1795395600"},
		"aws:SecureTransport":                               {"true"},
		"aws:SourceIp":                                      {"127.0.0.1"},
		"sts:SourceIdentity":                                {"alice"},
		"aws:RequestTag/team":                               {"platform"},
		"aws:TagKeys":                                       {"team"},
		"sts:TransitiveTagKeys":                             {"team"},
	}
	for key, vals := range want {
		if !slices.Equal(k[key], vals) {
			t.Errorf("%s = %v, want %v", key, k[key], vals)
		}
	}
	if len(k) != len(want) {
		t.Errorf("%d keys, want %d: %v", len(k), len(want), k)
	}

	// Google: :aud is azp when present, the token's aud becomes :oaud. Other issuers
	// keep aud even with an azp claim.
	g := &AWSOIDCProvider{ARN: "accounts.google.com", KeyPrefix: "accounts.google.com"}
	v = &oidc.Verified{Subject: "1234", Audience: []string{"32555940559.apps.googleusercontent.com"}, Claims: map[string]any{"azp": "client-a"}}
	k = awsConditionKeys(g, v, "s", "", nil, nil, now, Meta{})
	if !slices.Equal(k["accounts.google.com:aud"], []string{"client-a"}) || !slices.Equal(k["accounts.google.com:oaud"], v.Audience) {
		t.Errorf("google aud/oaud: %v %v", k["accounts.google.com:aud"], k["accounts.google.com:oaud"])
	}
	k = awsConditionKeys(gh, v, "s", "", nil, nil, now, Meta{})
	if !slices.Equal(k["token.actions.githubusercontent.com:aud"], v.Audience) || k["token.actions.githubusercontent.com:oaud"] != nil {
		t.Errorf("azp applied outside accounts.google.com: %v", k)
	}
	if k["aws:SourceIp"] != nil || k["aws:SecureTransport"][0] != "false" {
		t.Errorf("meta keys: %v %v", k["aws:SourceIp"], k["aws:SecureTransport"])
	}
}

func TestSessionClaims(t *testing.T) {
	t.Parallel()
	tags := func(v any) map[string]any { return map[string]any{claimSessionTags: v} }
	ok := tags(map[string]any{"principal_tags": map[string]any{"team": []any{"platform"}}, "transitive_tag_keys": []any{"team"}})
	si, tg, tr, prob := sessionClaims(ok)
	if prob != "" || si != "" || tg["team"] != "platform" || !slices.Equal(tr, []string{"team"}) {
		t.Fatalf("%q %v %v %q", si, tg, tr, prob)
	}
	for name, claims := range map[string]map[string]any{
		"tags not object":     tags("team=platform"),
		"tag value not list":  tags(map[string]any{"principal_tags": map[string]any{"team": "platform"}}),
		"tag two values":      tags(map[string]any{"principal_tags": map[string]any{"team": []any{"a", "b"}}}),
		"transitive unknown":  tags(map[string]any{"principal_tags": map[string]any{"team": []any{"a"}}, "transitive_tag_keys": []any{"env"}}),
		"transitive not list": tags(map[string]any{"principal_tags": map[string]any{"team": []any{"a"}}, "transitive_tag_keys": "team"}),
		"source identity bad": {claimSourceIdentity: "has space"},
		"source identity num": {claimSourceIdentity: json.Number("12")},
	} {
		if _, _, _, prob := sessionClaims(claims); prob == "" {
			t.Errorf("%s: accepted", name)
		}
	}
}
