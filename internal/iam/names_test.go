package iam

import (
	"errors"
	"strings"
	"testing"
)

const (
	tProject  = "123456789012"
	tPoolPath = "projects/123456789012/locations/global/workloadIdentityPools/github-pool"
	tProvPath = tPoolPath + "/providers/github-provider"
)

var tPool = PoolName{ProjectNumber: tProject, PoolID: "github-pool"}

// checkParseErr asserts err is a *ParseError matching every sentinel in want,
// whose public text does not repeat the input.
func checkParseErr(t *testing.T, input string, err error, want ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%q: accepted, want error", input)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%q: error %T is not a *ParseError: %v", input, err, err)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("%q: error %v does not match %v", input, err, w)
		}
	}
	if len(input) > 3 && strings.Contains(pe.Public(), input) {
		t.Errorf("%q: public text %q repeats the input", input, pe.Public())
	}
}

func TestParseProviderName(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want ProviderName
	}{
		{tProvPath, ProviderName{Pool: tPool, ProviderID: "github-provider"}},
		{"projects/100000/locations/global/workloadIdentityPools/abcd/providers/wxyz", ProviderName{Pool: PoolName{"100000", "abcd"}, ProviderID: "wxyz"}},
		{"projects/12345678901234567890/locations/global/workloadIdentityPools/" + strings.Repeat("a", 32) + "/providers/" + strings.Repeat("9", 32),
			ProviderName{Pool: PoolName{"12345678901234567890", strings.Repeat("a", 32)}, ProviderID: strings.Repeat("9", 32)}},
		{"projects/123456789012/locations/global/workloadIdentityPools/my-project.svc.id.goog/providers/k8s-cluster",
			ProviderName{Pool: PoolName{tProject, "my-project.svc.id.goog"}, ProviderID: "k8s-cluster"}},
		{"projects/123456789012/locations/global/workloadIdentityPools/-pool/providers/1abc", ProviderName{Pool: PoolName{tProject, "-pool"}, ProviderID: "1abc"}},
	}
	for _, tc := range valid {
		got, err := ParseProviderName(tc.in)
		if err != nil {
			t.Errorf("ParseProviderName(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseProviderName(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}

	invalid := []struct {
		in   string
		want []error
	}{
		{"", nil},
		{"projects/my-project/locations/global/workloadIdentityPools/github-pool/providers/github-provider", []error{ErrProjectNotNumber}},
		{"projects/012345678901/locations/global/workloadIdentityPools/github-pool/providers/p-01", nil},
		{"projects/12345/locations/global/workloadIdentityPools/github-pool/providers/p-01", nil},
		{"projects/123456789012345678901/locations/global/workloadIdentityPools/github-pool/providers/p-01", nil},
		{"projects/12345678901a/locations/global/workloadIdentityPools/github-pool/providers/p-01", nil},
		{"projects/123456789012/locations/us-east1/workloadIdentityPools/github-pool/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPool/github-pool/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPools/gcp-pool/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPools/abc/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPools/" + strings.Repeat("a", 33) + "/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPools/Github-pool/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPools/github_pool/providers/p-01", nil},
		{"projects/123456789012/locations/global/workloadIdentityPools/x.svc.id.goog/providers/p-01", nil},
		{tPoolPath, nil},
		{tPoolPath + "/providers/", nil},
		{tPoolPath + "/providers/gcp-prov", nil},
		{tPoolPath + "/providers/Github", nil},
		{tPoolPath + "/provider/github-provider", nil},
		{tProvPath + "/", nil},
		{tProvPath + "/extra", nil},
		{"/" + tProvPath, nil},
		{" " + tProvPath, nil},
		{tProvPath + "\n", nil},
		{"//iam.googleapis.com/" + tProvPath, nil},
		{"projects/123456789012", nil},
		{"projects/123456789012/locations", nil},
		{"projects/123456789012/locations/global", nil},
		{"projects//locations/global/workloadIdentityPools/github-pool/providers/p-01", nil},
		{"locations/global/workforcePools/my-pool/providers/p-01", []error{ErrWorkforceUnsupported}},
		{"projects/123456789012/locations/global/workforcePools/my-pool/providers/p-01", []error{ErrWorkforceUnsupported}},
		{strings.Repeat("a", maxNameLen+1), nil},
	}
	for _, tc := range invalid {
		_, err := ParseProviderName(tc.in)
		checkParseErr(t, tc.in, err, append([]error{ErrInvalidName}, tc.want...)...)
	}
}

func TestProjectIDHint(t *testing.T) {
	t.Parallel()
	_, err := ParseProviderName("projects/my-project/locations/global/workloadIdentityPools/github-pool/providers/github-provider")
	if err == nil || !strings.Contains(err.Error(), "projects/my-project: a resource name names the project by number") {
		t.Fatalf("error %v lacks the project-number hint", err)
	}
	// A malformed project that is not a project id gets no hint.
	_, err = ParseProviderName("projects/My_Project/locations/global/workloadIdentityPools/github-pool/providers/github-provider")
	if err == nil || errors.Is(err, ErrProjectNotNumber) {
		t.Fatalf("error %v: want a plain invalid-name error", err)
	}
}

func TestParsePoolName(t *testing.T) {
	t.Parallel()
	got, err := ParsePoolName(tPoolPath)
	if err != nil || got != tPool || got.String() != tPoolPath {
		t.Fatalf("ParsePoolName = %+v, %v", got, err)
	}
	for _, in := range []string{"", tPoolPath + "/", tProvPath, "projects/my-project/locations/global/workloadIdentityPools/github-pool", strings.Repeat("p", 600)} {
		_, err := ParsePoolName(in)
		checkParseErr(t, in, err, ErrInvalidName)
	}
	_, err = ParsePoolName("projects/my-project/locations/global/workloadIdentityPools/github-pool")
	checkParseErr(t, "", err, ErrProjectNotNumber)
}

func TestParseAudience(t *testing.T) {
	t.Parallel()
	want := ProviderName{Pool: tPool, ProviderID: "github-provider"}
	for _, in := range []string{
		"//iam.googleapis.com/" + tProvPath,
		"https://iam.googleapis.com/" + tProvPath,
		"//iam.keyless.example.internal/" + tProvPath,
		"//IAM.Example.com:8443/" + tProvPath,
		"//localhost/" + tProvPath,
	} {
		got, err := ParseAudience(in)
		if err != nil {
			t.Errorf("ParseAudience(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("ParseAudience(%q) = %+v, want %+v", in, got, want)
		}
	}
	invalid := []struct {
		in   string
		want []error
	}{
		{"", nil},
		{tProvPath, nil},
		{"http://iam.googleapis.com/" + tProvPath, nil},
		{"https://iam.example.com/" + tProvPath, nil},
		{"https://iam.googleapis.com//" + tProvPath, nil},
		{"//iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/providers/github-provider", []error{ErrProjectNotNumber}},
		{"https://iam.googleapis.com/projects/my-project/locations/global/workloadIdentityPools/github-pool/providers/github-provider", []error{ErrProjectNotNumber}},
		{"//iam.googleapis.com/locations/global/workforcePools/my-pool/providers/my-prov", []error{ErrWorkforceUnsupported}},
		{"//iam.googleapis.com/" + tPoolPath, nil},
		{"//iam.googleapis.com/" + tProvPath + "/", nil},
		{"//iam.googleapis.com/" + tProvPath + "?x=1", nil},
		{"//iam.googleapis.com/" + tProvPath + "#f", nil},
		{"//iam.googleapis.com/" + tProvPath + " ", nil},
		{" //iam.googleapis.com/" + tProvPath, nil},
		{"///" + tProvPath, nil},
		{"//user@iam.googleapis.com/" + tProvPath, nil},
		{"//iam.googleapis.com:/" + tProvPath, nil},
		{"//iam.googleapis.com:123456/" + tProvPath, nil},
		{"//iam.googleapis.com:80a/" + tProvPath, nil},
		{"//-iam.googleapis.com/" + tProvPath, nil},
		{"//iam..googleapis.com/" + tProvPath, nil},
		{"//[::1]/" + tProvPath, nil},
		{"//iam.googleapis.com", nil},
		{"//" + strings.Repeat("a", 300) + "/" + tProvPath, nil},
		{"//iam.googleapis.com/" + tProvPath + strings.Repeat("x", maxAudienceLen), nil},
	}
	for _, tc := range invalid {
		_, err := ParseAudience(tc.in)
		checkParseErr(t, tc.in, err, append([]error{ErrInvalidName}, tc.want...)...)
	}
}

func TestProviderAudiences(t *testing.T) {
	t.Parallel()
	p := ProviderName{Pool: tPool, ProviderID: "github-provider"}
	if got, want := p.Audience(), "//iam.googleapis.com/"+tProvPath; got != want {
		t.Errorf("Audience() = %q, want %q", got, want)
	}
	if got, want := p.HTTPSAudience(), "https://iam.googleapis.com/"+tProvPath; got != want {
		t.Errorf("HTTPSAudience() = %q, want %q", got, want)
	}
	for _, aud := range []string{p.Audience(), p.HTTPSAudience()} {
		if got, err := ParseAudience(aud); err != nil || got != p {
			t.Errorf("ParseAudience(%q) = %+v, %v", aud, got, err)
		}
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	type tc struct {
		in string
		ok bool
	}
	run := func(name string, f func(string) error, cases []tc) {
		for _, c := range cases {
			err := f(c.in)
			if (err == nil) != c.ok {
				t.Errorf("%s(%q) = %v, want ok=%v", name, c.in, err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidName) {
				t.Errorf("%s(%q): error %v does not match ErrInvalidName", name, c.in, err)
			}
		}
	}
	run("ValidatePoolID", ValidatePoolID, []tc{
		{"abcd", true}, {"my-pool-1", true}, {"1234", true}, {"----", true}, {strings.Repeat("z", 32), true},
		{"my-project.svc.id.goog", true},
		{"abc", false}, {strings.Repeat("z", 33), false}, {"gcp-pool", false}, {"gcp-", false}, {"My-pool", false},
		{"my_pool", false}, {"my.pool", false}, {"", false}, {"pool/x", false}, {"my-pool ", false},
		{"MyProject.svc.id.goog", false}, {".svc.id.goog", false}, {"abc.svc.id.goog", false}, {"my-project.svc.id.goog.", false},
	})
	run("ValidateProviderID", ValidateProviderID, []tc{
		{"abcd", true}, {"github-provider", true}, {strings.Repeat("0", 32), true},
		{"abc", false}, {strings.Repeat("0", 33), false}, {"gcp-github", false}, {"GitHub", false}, {"a.b.c.d", false}, {"", false},
	})
	run("ValidateAccountID", ValidateAccountID, []tc{
		{"deploy", true}, {"deploy-sa", true}, {"a12345", true}, {strings.Repeat("a", 30), true},
		{"abcde", false}, {strings.Repeat("a", 31), false}, {"1abcde", false}, {"-abcde", false}, {"abcde-", false},
		{"abc_de", false}, {"Abcdef", false}, {"abc.de", false}, {"", false},
	})
	run("ValidateProjectNumber", ValidateProjectNumber, []tc{
		{"123456", true}, {tProject, true}, {"12345678901234567890", true},
		{"12345", false}, {"123456789012345678901", false}, {"012345678901", false}, {"12345678901a", false}, {"-12345678901", false}, {"", false},
	})
	run("ValidateProjectID", ValidateProjectID, []tc{
		{"my-project", true}, {"abcdef", true}, {"a-2345", true}, {strings.Repeat("p", 30), true},
		{"abcde", false}, {strings.Repeat("p", 31), false}, {"1project", false}, {"project-", false}, {"My-project", false},
		{"example.com:proj", false}, {"my_project", false},
	})
	run("ValidateServiceAccountEmail", ValidateServiceAccountEmail, []tc{
		{"deploy-sa@my-project.iam.gserviceaccount.com", true},
		{"123456789012-compute@developer.gserviceaccount.com", true},
		{"my-project@appspot.gserviceaccount.com", true},
		{"Deploy-sa@my-project.iam.gserviceaccount.com", false},
		{"deploy-sa@My-project.iam.gserviceaccount.com", false},
		{"deploy.sa@my-project.iam.gserviceaccount.com", false},
		{"deploy-sa@localhost", false},
		{"deploy-sa", false},
		{"@my-project.iam.gserviceaccount.com", false},
		{"a@b@my-project.iam.gserviceaccount.com", false},
		{"deploy-sa@my-project..iam.gserviceaccount.com", false},
		{strings.Repeat("a", 65) + "@p.iam.gserviceaccount.com", false},
		{"", false},
	})
}

func TestNameHelpers(t *testing.T) {
	t.Parallel()
	if got, want := ServiceAccountEmail("deploy-sa", "my-project"), "deploy-sa@my-project.iam.gserviceaccount.com"; got != want {
		t.Errorf("ServiceAccountEmail = %q, want %q", got, want)
	}
	if got, want := PrincipalURI(tPool, "repo:org/repo:ref:refs/heads/main"),
		"principal://iam.googleapis.com/"+tPoolPath+"/subject/repo:org/repo:ref:refs/heads/main"; got != want {
		t.Errorf("PrincipalURI = %q, want %q", got, want)
	}
	if got := GKEPoolID("my-project"); got != "my-project.svc.id.goog" {
		t.Errorf("GKEPoolID = %q", got)
	}
	if got := GKESubject("prod", "deployer"); got != "system:serviceaccount:prod:deployer" {
		t.Errorf("GKESubject = %q", got)
	}
}

func TestParseServiceAccountResource(t *testing.T) {
	t.Parallel()
	const email = "deploy-sa@my-project.iam.gserviceaccount.com"
	valid := []struct {
		in   string
		want ServiceAccountRef
	}{
		{"projects/-/serviceAccounts/" + email, ServiceAccountRef{Project: "-", Email: email}},
		{"projects/-/serviceAccounts/deploy-sa%40my-project.iam.gserviceaccount.com", ServiceAccountRef{Project: "-", Email: email}},
		{"projects/my-project/serviceAccounts/" + email, ServiceAccountRef{Project: "my-project", Email: email}},
		{"projects/123456789012/serviceAccounts/" + email, ServiceAccountRef{Project: tProject, Email: email}},
		{"projects/-/serviceAccounts/109876543210987654321", ServiceAccountRef{Project: "-", UniqueID: "109876543210987654321"}},
	}
	for _, tc := range valid {
		got, err := ParseServiceAccountResource(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseServiceAccountResource(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"",
		email,
		"projects/-/serviceAccounts/",
		"projects/-",
		"projects//serviceAccounts/" + email,
		"projects/My_Project/serviceAccounts/" + email,
		"projects/-/serviceaccounts/" + email,
		"projects/-/serviceAccounts/" + email + "/",
		"projects/-/serviceAccounts/" + email + ":generateAccessToken",
		"projects/-/serviceAccounts/Deploy-sa@my-project.iam.gserviceaccount.com",
		"projects/-/serviceAccounts/deploy-sa%40my-project%40iam.gserviceaccount.com",
		"projects/-/serviceAccounts/deploy-sa%40my-project.iam.gserviceaccount.com@x",
		"projects/-/serviceAccounts/deploy-sa%2540my-project.iam.gserviceaccount.com",
		"projects/-/serviceAccounts/deploy-sa%40",
		"projects/-/serviceAccounts/" + strings.Repeat("1", 33),
		"projects/-/serviceAccounts/ " + email,
		"projects/-/serviceAccounts/" + strings.Repeat("a", 600),
	} {
		_, err := ParseServiceAccountResource(in)
		checkParseErr(t, in, err, ErrInvalidName)
	}
}

func TestParseErrorText(t *testing.T) {
	t.Parallel()
	long := "projects/" + strings.Repeat("9", 400)
	_, err := ParseProviderName(long)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T", err)
	}
	if len(err.Error()) > 3*maxQuoted+200 {
		t.Errorf("error text is %d bytes; the input should be truncated", len(err.Error()))
	}
	if pe.Public() != "invalid provider name" {
		t.Errorf("Public() = %q", pe.Public())
	}
}
