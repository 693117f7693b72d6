package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testdataFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.*")
	if err != nil || len(files) < 3 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	return files
}

func TestLoadTestdata(t *testing.T) {
	t.Parallel()
	for _, f := range testdataFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if c.Google == nil || len(c.Google.Projects) == 0 {
				t.Fatal("no projects")
			}
		})
	}
}

func TestLoadFullConfigContents(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pools := c.Google.Projects[0].WorkloadIdentityPools
	k8s := pools[1].Providers[0]
	if got := k8s.AttributeMapping["attribute.namespace"]; got != "assertion['kubernetes.io']['namespace']" {
		t.Errorf("bracket mapping: %q", got)
	}
	if got := pools[0].Providers[0].AttributeCondition; got != "assertion.repository_owner_id == '123456' && assertion.ref == 'refs/heads/main'" {
		t.Errorf("folded condition: %q", got)
	}
	if !cmp.Equal(pools[0].Providers[0].AttributeMapping, pools[0].Providers[1].AttributeMapping) {
		t.Error("alias not expanded")
	}
	roles := c.AWS.Accounts[0].Roles
	if !strings.HasPrefix(string(roles[0].AssumeRolePolicyDocument), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow"`) {
		t.Errorf("policy: %s", roles[0].AssumeRolePolicyDocument)
	}
	if !strings.HasPrefix(string(roles[1].AssumeRolePolicyDocument), `{"Version":"2012-10-17"`) {
		t.Errorf("policy from string: %s", roles[1].AssumeRolePolicyDocument)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyless.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadReportsEverythingWithPositions(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `issuer: ftp://keyless
google:
  projects:
  - projectId: my-project
    projectNumber: 123
    workloadIdentityPools:
    - workloadIdentityPoolId: gcp-pool
      providers:
      - workloadIdentityPoolProviderId: prov
        attributeMapping:
          attribute.Repo: assertion.repo
        attributeConditon: x
server:
  signingAlg: HS256
`)
	c, err := Load(path)
	if c != nil {
		t.Fatal("config returned with problems")
	}
	var ps Problems
	if !errors.As(err, &ps) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %T %v", err, err)
	}
	prov := "google.projects[0].workloadIdentityPools[0].providers[0]"
	want := []string{
		path + `:1:1: issuer: "ftp://keyless" is not an https:// URL; expected https://HOST[/PATH]`,
		path + `:5:20: google.projects[0].projectNumber: expected a string, found a number (123); quote it ("123") if it is meant as text`,
		path + `:7:7: google.projects[0].workloadIdentityPools[0].workloadIdentityPoolId: "gcp-pool" starts with "gcp-", which Google reserves; choose another pool id`,
		path + `:9:9: ` + prov + `: sets neither oidc nor aws; a provider trusts exactly one kind of credential`,
		path + `:11:11: ` + prov + `.attributeMapping["attribute.Repo"]: attribute name "Repo" may use only lowercase letters, digits and underscores`,
		path + `:12:9: ` + prov + `.attributeConditon: unknown field "attributeConditon" (did you mean "attributeCondition"?)`,
		path + `:14:3: server.signingAlg: "HS256" is not supported; use ES256 (the default), RS256 or EdDSA`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestLoadMissingFieldPointsAtParent(t *testing.T) {
	t.Parallel()
	_, err := LoadBytes([]byte("google:\n  projects:\n  - projectNumber: \"123456789012\"\n"), "k.yaml")
	if err == nil || err.Error() != "k.yaml:3:5: google.projects[0].projectId: is required (the project's id, such as my-project)" {
		t.Fatalf("%v", err)
	}
}

func TestLoadFatalParseSkipsValidation(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"syntax":    "google:\n  projects: [\n",
		"documents": "google: {}\n---\n{}\n",
		"laughs": func() string {
			d := billionLaughs(9, "aws:\n  accounts:\n  - roles:\n    - assumeRolePolicyDocument: LOL\n")
			parts := strings.SplitN(d, "\n\n", 2)
			return strings.ReplaceAll(parts[1], "x-lol", "xlol") + parts[0] + "\n"
		}(),
	} {
		_, err := LoadBytes([]byte(src), "k.yaml")
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if strings.Contains(err.Error(), "is required") {
			t.Errorf("%s: validation ran on a document that could not be read:\n%v", name, err)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Fatalf("%v", err)
	}
	big := writeFile(t, strings.Repeat("# padding\n", MaxFileSize/10+1))
	_, err = Load(big)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the limit is 4194304") || !strings.HasPrefix(err.Error(), big+": ") {
		t.Fatalf("%v", err)
	}
	_, err = Load(t.TempDir()) // a directory
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("%v", err)
	}
}

func TestLoadEmptyFileIsEmptyConfig(t *testing.T) {
	t.Parallel()
	c, err := Load(writeFile(t, "# nothing configured yet\n"))
	if err != nil || c == nil || !cmp.Equal(c, &Config{}) {
		t.Fatalf("%v %+v", err, c)
	}
}
