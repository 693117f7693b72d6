package awsreq

import (
	"strings"
	"testing"
)

const gciXML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::012345678901:assumed-role/keyless-role/demo</Arn>
    <UserId>AROAKEYLESSROLEEXAMPLE:demo</UserId>
    <Account>012345678901</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>
`

const gciJSON = `{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"012345678901",` +
	`"Arn":"arn:aws:sts::012345678901:assumed-role/keyless-role/demo","UserId":"AROAKEYLESSROLEEXAMPLE:demo"},` +
	`"ResponseMetadata":{"RequestId":"01234567-89ab-cdef-0123-456789abcdef"}}}`

func TestParseGetCallerIdentityResponse(t *testing.T) {
	t.Parallel()
	want := CallerIdentity{Arn: "arn:aws:sts::012345678901:assumed-role/keyless-role/demo", Account: "012345678901", UserID: "AROAKEYLESSROLEEXAMPLE:demo"}
	for name, body := range map[string]string{
		"xml":            gciXML,
		"xml decl":       `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + gciXML,
		"xml no ns":      strings.Replace(gciXML, ` xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`, "", 1),
		"xml comment":    strings.Replace(gciXML, "<Arn>", "<!-- c --><Arn>", 1),
		"xml reordered":  "<GetCallerIdentityResponse><ResponseMetadata/><GetCallerIdentityResult><Account>012345678901</Account><UserId>AROAKEYLESSROLEEXAMPLE:demo</UserId><Arn>arn:aws:sts::012345678901:assumed-role/keyless-role/demo</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
		"xml amp entity": strings.Replace(gciXML, "keyless-role/demo</Arn>", "keyless-role/demo&#x2D;x</Arn>", 1),
		"json":           gciJSON,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseGetCallerIdentityResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if name == "xml amp entity" {
				w.Arn += "-x"
			}
			if *got != w {
				t.Fatalf("got %+v", got)
			}
		})
	}
	iam := strings.Replace(gciXML, "arn:aws:sts::012345678901:assumed-role/keyless-role/demo", "arn:aws-us-gov:iam::012345678901:user/alice", 1)
	if _, err := ParseGetCallerIdentityResponse([]byte(iam)); err != nil {
		t.Fatalf("iam user in gov partition: %v", err)
	}
}

func TestParseGetCallerIdentityResponseNegative(t *testing.T) {
	t.Parallel()
	rep := func(old, new string) string { return strings.Replace(gciXML, old, new, 1) }
	jrep := func(old, new string) string { return strings.Replace(gciJSON, old, new, 1) }
	for name, body := range map[string]string{
		"empty":               "",
		"text":                "hello",
		"duplicate Arn":       rep("<UserId>", "<Arn>arn:aws:sts::012345678901:assumed-role/evil/x</Arn><UserId>"),
		"duplicate Account":   rep("</GetCallerIdentityResult>", "<Account>012345678901</Account></GetCallerIdentityResult>"),
		"duplicate result":    rep("<ResponseMetadata>", "<GetCallerIdentityResult></GetCallerIdentityResult><ResponseMetadata>"),
		"missing Arn":         rep("<Arn>arn:aws:sts::012345678901:assumed-role/keyless-role/demo</Arn>", ""),
		"missing UserId":      rep("<UserId>AROAKEYLESSROLEEXAMPLE:demo</UserId>", ""),
		"missing Account":     rep("<Account>012345678901</Account>", ""),
		"missing result":      "<GetCallerIdentityResponse><ResponseMetadata/></GetCallerIdentityResponse>",
		"wrong root":          strings.ReplaceAll(gciXML, "GetCallerIdentityResponse", "AssumeRoleResponse"),
		"wrong namespace":     rep("https://sts.amazonaws.com/doc/2011-06-15/", "https://evil.example/"),
		"doctype":             `<!DOCTYPE x [<!ENTITY e "arn:aws:sts::012345678901:x">]>` + gciXML,
		"doctype inside":      rep("<ResponseMetadata>", `<ResponseMetadata><!DOCTYPE x>`),
		"custom entity":       rep("keyless-role/demo</Arn>", "&e;</Arn>"),
		"processing instr":    rep("<Arn>", "<?php x?><Arn>"),
		"nested in Arn":       rep("<Arn>", "<Arn><b>x</b>"),
		"trailing element":    gciXML + "<x/>",
		"trailing text":       gciXML + "junk",
		"unclosed":            gciXML[:len(gciXML)-30],
		"oversized":           gciXML + strings.Repeat(" ", MaxResponseSize),
		"bad account":         strings.ReplaceAll(gciXML, "012345678901", "12345"),
		"account mismatch":    rep("<Account>012345678901</Account>", "<Account>999999999999</Account>"),
		"arn not arn":         rep("arn:aws:sts::", "urn:aws:sts::"),
		"arn other service":   rep("arn:aws:sts::", "arn:aws:s3::"),
		"arn spaces":          rep("keyless-role/demo<", "keyless role/demo<"),
		"empty UserId":        rep("AROAKEYLESSROLEEXAMPLE:demo", ""),
		"not utf8":            rep("demo</UserId>", "demo\xff</UserId>"),
		"json duplicate Arn":  jrep(`"UserId"`, `"Arn":"arn:aws:sts::012345678901:assumed-role/evil/x","UserId"`),
		"json duplicate resp": gciJSON[:len(gciJSON)-1] + `,"GetCallerIdentityResponse":{}}`,
		"json missing":        jrep(`"Account":"012345678901",`, ""),
		"json number":         jrep(`"012345678901"`, `12345678901`),
		"json trailing":       gciJSON + "{}",
		"json no result":      `{"GetCallerIdentityResponse":{}}`,
		"json dup in nested":  jrep(`"RequestId":"01234567-89ab-cdef-0123-456789abcdef"`, `"RequestId":"a","RequestId":"b"`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseGetCallerIdentityResponse([]byte(body)); StageOf(err) != StageResponse {
				t.Fatalf("got %v, want response stage", err)
			}
		})
	}
}

func TestParseGetCallerIdentityResponseDeepJSON(t *testing.T) {
	t.Parallel()
	// Deep nesting in a skipped member is walked in linear time (the size
	// bound caps the depth).
	deep := `{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,` + gciJSON[1:]
	if _, err := ParseGetCallerIdentityResponse([]byte(deep)); err != nil {
		t.Fatalf("got %v", err)
	}
	nested := `{"x":{"a":{"b":1,"b":2}},` + gciJSON[1:]
	if _, err := ParseGetCallerIdentityResponse([]byte(nested)); StageOf(err) != StageResponse {
		t.Fatalf("duplicate in skipped member: %v", err)
	}
	ok := `{"x":{"a":[{"b":1},{"b":2}]},` + gciJSON[1:]
	if _, err := ParseGetCallerIdentityResponse([]byte(ok)); err != nil {
		t.Fatalf("skipped member: %v", err)
	}
}
