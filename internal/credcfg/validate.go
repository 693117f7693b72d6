package credcfg

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/keylessdev/keyless/internal/iam"
)

// sourceKind is the credential source an Options selects.
type sourceKind int

const (
	srcNone sourceKind = iota
	srcFile
	srcURL
	srcExecutable
	srcAWS
	srcAzure
	srcCert
)

// plan is a validated Options with every default applied.
type plan struct {
	o                *Options
	kind             sourceKind
	provider         string // resource name, no host
	universe         string
	subjectTokenType string
	tokenURL         string
	tokenInfoURL     string // used only without impersonation
	impersonationURL string // "" without ServiceAccount
	formatType       string // "", "text" or "json"
	timeoutMillis    int
	headers          []Header // deduplicated
}

// Validate reports every problem with o, joined (errors.Join); nil means
// Generate will succeed. Each problem is an *OptionError wrapping
// ErrInvalidOptions and one of ErrSource, ErrConflict, ErrValue.
//
// It refuses what gcloud refuses, and also what gcloud silently ignores or
// writes into a config no client can use: flags that do not apply to the
// chosen source, malformed audiences, service accounts and URLs, control
// characters, and http endpoints off loopback for the keyless extensions.
func Validate(o Options) error {
	_, err := resolve(&o)
	return err
}

func resolve(o *Options) (*plan, error) {
	var p problems
	checkStrings(&p, o)
	pl := &plan{o: o}
	pl.kind = chooseSource(&p, o)
	pl.provider = checkAudience(&p, o.Audience)
	checkServiceAccount(&p, o)
	pl.universe = checkUniverse(&p, o.UniverseDomain)
	if pl.kind != srcNone {
		checkApplicable(&p, o, pl.kind)
		pl.subjectTokenType = checkSubjectTokenType(&p, o.SubjectTokenType, pl.kind)
		switch pl.kind {
		case srcFile:
			pl.formatType = checkFormat(&p, o)
		case srcURL:
			checkURL(&p, FlagCredentialSourceURL, o.CredentialSourceURL)
			pl.headers = checkHeaders(&p, o.CredentialSourceHeaders)
			pl.formatType = checkFormat(&p, o)
		case srcExecutable:
			pl.timeoutMillis = checkExecutable(&p, o)
		case srcAzure:
			checkAppIDURI(&p, o.AppIDURI)
		case srcCert:
			if o.CredentialCertPrivateKeyPath == "" {
				p.add(FlagCredentialCertPrivateKeyPath, ErrConflict, "is required with "+FlagCredentialCertPath)
			}
		}
	}
	checkEndpoints(&p, o, pl)
	if err := p.err(); err != nil {
		return nil, err
	}
	return pl, nil
}

// checkStrings rejects invalid UTF-8, control characters and oversized
// values in every string option.
func checkStrings(p *problems, o *Options) {
	fields := []struct{ flag, v string }{
		{FlagAudience, o.Audience},
		{FlagServiceAccount, o.ServiceAccount},
		{FlagSubjectTokenType, o.SubjectTokenType},
		{FlagCredentialSourceFile, o.CredentialSourceFile},
		{FlagCredentialSourceURL, o.CredentialSourceURL},
		{FlagCredentialSourceType, o.CredentialSourceType},
		{FlagCredentialSourceFieldName, o.CredentialSourceFieldName},
		{FlagExecutableCommand, o.ExecutableCommand},
		{FlagExecutableOutputFile, o.ExecutableOutputFile},
		{FlagAppIDURI, o.AppIDURI},
		{FlagCredentialCertPath, o.CredentialCertPath},
		{FlagCredentialCertPrivateKeyPath, o.CredentialCertPrivateKeyPath},
		{FlagCredentialCertConfigurationOutputFile, o.CredentialCertConfigurationOutputFile},
		{FlagCredentialCertTrustChainPath, o.CredentialCertTrustChainPath},
		{FlagUniverseDomain, o.UniverseDomain},
		{FlagTokenURL, o.TokenURL},
		{FlagTokenInfoURL, o.TokenInfoURL},
		{FlagIAMCredentialsURL, o.IAMCredentialsURL},
		{FlagKeylessServer, o.KeylessServer},
	}
	for _, f := range fields {
		if msg := badString(f.v); msg != "" {
			p.add(f.flag, ErrValue, msg)
		}
	}
	if len(o.CredentialSourceHeaders) > maxHeaders {
		p.add(FlagCredentialSourceHeaders, ErrValue, fmt.Sprintf("more than %d headers", maxHeaders))
	}
	for i, h := range o.CredentialSourceHeaders {
		if msg := badString(h.Name); msg != "" {
			p.add(FlagCredentialSourceHeaders, ErrValue, fmt.Sprintf("header %d name: %s", i+1, msg))
		}
		if msg := badString(h.Value); msg != "" {
			p.add(FlagCredentialSourceHeaders, ErrValue, fmt.Sprintf("header %d value: %s", i+1, msg))
		}
	}
}

// badString explains why s cannot go into a credential config, or "".
func badString(s string) string {
	if len(s) > maxValueLen {
		return fmt.Sprintf("longer than %d bytes", maxValueLen)
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

func chooseSource(p *problems, o *Options) sourceKind {
	type cand struct {
		set  bool
		flag string
		kind sourceKind
	}
	cands := []cand{
		{o.CredentialSourceFile != "", FlagCredentialSourceFile, srcFile},
		{o.CredentialSourceURL != "", FlagCredentialSourceURL, srcURL},
		{o.ExecutableCommand != "", FlagExecutableCommand, srcExecutable},
		{o.AWS, FlagAWS, srcAWS},
		{o.Azure, FlagAzure, srcAzure},
		{o.CredentialCertPath != "", FlagCredentialCertPath, srcCert},
	}
	var given []string
	kind := srcNone
	for _, c := range cands {
		if c.set {
			given = append(given, c.flag)
			kind = c.kind
		}
	}
	const all = "--aws | --azure | --credential-cert-path | --credential-source-file | --credential-source-url | --executable-command"
	switch len(given) {
	case 1:
		return kind
	case 0:
		p.add("credential source", ErrSource, "exactly one of ("+all+") must be specified")
	default:
		p.add("credential source", ErrSource, "exactly one of ("+all+") must be specified; got "+strings.Join(given, ", "))
	}
	return srcNone
}

// checkAudience returns the provider resource name.
func checkAudience(p *problems, aud string) string {
	if aud == "" {
		p.add(FlagAudience, ErrValue, "missing; give the provider as projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER")
		return ""
	}
	name := aud
	for _, prefix := range []string{audienceHostPrefix, httpsAudienceHostPrefix} {
		if rest, ok := strings.CutPrefix(aud, prefix); ok {
			name = rest
			break
		}
	}
	if _, err := iam.ParseProviderName(name); err != nil {
		p.addCause(FlagAudience, ErrValue, "not a workload identity pool provider (projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER): "+err.Error(), err)
		return ""
	}
	return name
}

func checkServiceAccount(p *problems, o *Options) {
	if o.ServiceAccount != "" {
		if err := iam.ValidateServiceAccountEmail(o.ServiceAccount); err != nil {
			p.addCause(FlagServiceAccount, ErrValue, err.Error(), err)
		}
	}
	switch l := o.ServiceAccountTokenLifetimeSeconds; {
	case l == 0:
	case o.ServiceAccount == "":
		p.add(FlagServiceAccountTokenLifetimeSeconds, ErrConflict, FlagServiceAccount+" must be specified")
	case l < MinTokenLifetimeSeconds || l > MaxTokenLifetimeSeconds:
		p.add(FlagServiceAccountTokenLifetimeSeconds, ErrValue, fmt.Sprintf("%d is outside %d..%d", l, MinTokenLifetimeSeconds, MaxTokenLifetimeSeconds))
	}
}

func checkUniverse(p *problems, u string) string {
	if u == "" {
		return DefaultUniverseDomain
	}
	if !isDNSName(u) {
		p.add(FlagUniverseDomain, ErrValue, quote(u)+" is not a lowercase DNS name with at least two labels")
	}
	return u
}

// isDNSName accepts lowercase host names of two or more labels.
func isDNSName(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkApplicable rejects flags that do not apply to the chosen source.
// gcloud refuses some of these (--enable-imdsv2, --credential-source-type
// with --aws/--azure, the certificate flags) and silently drops the others;
// keyless refuses them all, so nobody believes a header or a format was
// configured when it was not.
func checkApplicable(p *problems, o *Options, kind sourceKind) {
	notWith := func(flag string, set bool, okKinds ...sourceKind) {
		if !set {
			return
		}
		for _, k := range okKinds {
			if k == kind {
				return
			}
		}
		p.add(flag, ErrConflict, "can be used only with "+kindFlags(okKinds))
	}
	notWith(FlagCredentialSourceHeaders, len(o.CredentialSourceHeaders) > 0, srcURL)
	notWith(FlagCredentialSourceType, o.CredentialSourceType != "", srcFile, srcURL)
	notWith(FlagCredentialSourceFieldName, o.CredentialSourceFieldName != "", srcFile, srcURL)
	notWith(FlagExecutableTimeoutMillis, o.ExecutableTimeoutMillis != 0, srcExecutable)
	notWith(FlagExecutableOutputFile, o.ExecutableOutputFile != "", srcExecutable)
	notWith(FlagEnableIMDSv2, o.EnableIMDSv2, srcAWS)
	notWith(FlagAppIDURI, o.AppIDURI != "", srcAzure)
	notWith(FlagCredentialCertPrivateKeyPath, o.CredentialCertPrivateKeyPath != "", srcCert)
	notWith(FlagCredentialCertConfigurationOutputFile, o.CredentialCertConfigurationOutputFile != "", srcCert)
	notWith(FlagCredentialCertTrustChainPath, o.CredentialCertTrustChainPath != "", srcCert)
}

func kindFlags(kinds []sourceKind) string {
	names := map[sourceKind]string{
		srcFile: FlagCredentialSourceFile, srcURL: FlagCredentialSourceURL,
		srcExecutable: FlagExecutableCommand, srcAWS: FlagAWS, srcAzure: FlagAzure,
		srcCert: FlagCredentialCertPath,
	}
	var out []string
	for _, k := range kinds {
		out = append(out, names[k])
	}
	return strings.Join(out, " or ")
}

// checkSubjectTokenType returns the subject_token_type to write.
func checkSubjectTokenType(p *problems, t string, kind sourceKind) string {
	fixed := map[sourceKind]string{srcAWS: TokenTypeAWS4, srcAzure: TokenTypeJWT, srcCert: TokenTypeMTLS}
	if f, ok := fixed[kind]; ok {
		if t != "" && t != f {
			p.add(FlagSubjectTokenType, ErrConflict, "this source always uses "+f)
		}
		return f
	}
	switch t {
	case "":
		return TokenTypeJWT
	case TokenTypeJWT, TokenTypeIDToken, TokenTypeSAML2:
		return t
	}
	p.add(FlagSubjectTokenType, ErrValue, quote(t)+" is not one of "+TokenTypeJWT+", "+TokenTypeIDToken+", "+TokenTypeSAML2)
	return ""
}

// checkFormat returns the lower-cased format type ("" for none).
func checkFormat(p *problems, o *Options) string {
	if o.CredentialSourceType == "" {
		if o.CredentialSourceFieldName != "" {
			p.add(FlagCredentialSourceFieldName, ErrConflict, "needs "+FlagCredentialSourceType+"=json")
		}
		return ""
	}
	t := strings.ToLower(o.CredentialSourceType)
	switch t {
	case "text":
		if o.CredentialSourceFieldName != "" {
			p.add(FlagCredentialSourceFieldName, ErrConflict, "is used only with "+FlagCredentialSourceType+"=json")
		}
	case "json":
		if o.CredentialSourceFieldName == "" {
			p.add(FlagCredentialSourceFieldName, ErrConflict, "required for JSON formatted tokens")
		}
	default:
		p.add(FlagCredentialSourceType, ErrValue, `must be either "json" or "text"`)
	}
	return t
}

// checkURL accepts an absolute http or https URL with a host and no
// credentials, fragment or spaces (a subject token source).
func checkURL(p *problems, flag, s string) {
	if msg := urlProblem(s, true); msg != "" {
		p.add(flag, ErrValue, quote(s)+": "+msg)
	}
}

func urlProblem(s string, allowQuery bool) string {
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return "must start with https:// or http://"
	}
	if strings.ContainsAny(s, " \\") {
		return "must not contain spaces or backslashes"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "not a URL"
	case u.Host == "" || u.Hostname() == "":
		return "has no host"
	case u.User != nil:
		return "must not contain user info"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "must not contain a fragment"
	case !allowQuery && (u.RawQuery != "" || u.ForceQuery):
		return "must not contain a query"
	}
	return ""
}

// checkHeaders validates names (HTTP tokens) and returns the headers with
// repeated names merged as gcloud's ordered dict does.
func checkHeaders(p *problems, hs []Header) []Header {
	for i, h := range hs {
		if !isToken(h.Name) {
			p.add(FlagCredentialSourceHeaders, ErrValue, fmt.Sprintf("header %d: name %s is not an HTTP header name", i+1, quote(h.Name)))
		}
	}
	return dedupeHeaders(hs)
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// dedupeHeaders keeps each name at its first position with its last value.
func dedupeHeaders(hs []Header) []Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]Header, 0, len(hs))
	at := make(map[string]int, len(hs))
	for _, h := range hs {
		if i, ok := at[h.Name]; ok {
			out[i].Value = h.Value
			continue
		}
		at[h.Name] = len(out)
		out = append(out, h)
	}
	return out
}

// checkExecutable returns the timeout to write.
func checkExecutable(p *problems, o *Options) int {
	fields := strings.Fields(o.ExecutableCommand)
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		p.add(FlagExecutableCommand, ErrValue, "must start with the absolute path of the program")
	}
	if o.ExecutableOutputFile != "" && !strings.HasPrefix(o.ExecutableOutputFile, "/") {
		p.add(FlagExecutableOutputFile, ErrValue, "must be an absolute path")
	}
	switch t := o.ExecutableTimeoutMillis; {
	case t == 0:
		return DefaultExecutableTimeoutMs
	case t < MinExecutableTimeoutMs || t > MaxExecutableTimeoutMs:
		p.add(FlagExecutableTimeoutMillis, ErrValue, fmt.Sprintf("%d is outside %d..%d", t, MinExecutableTimeoutMs, MaxExecutableTimeoutMs))
	}
	return o.ExecutableTimeoutMillis
}

// checkAppIDURI: gcloud pastes the value unescaped into the IMDS query
// string, so characters that would end or alter that parameter are refused.
func checkAppIDURI(p *problems, s string) {
	if s == "" {
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/@!$'()*,;=", c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
		default:
			p.add(FlagAppIDURI, ErrValue, quote(s)+": only letters, digits, percent escapes and -._~:/@!$'()*,;= are allowed (it is pasted into a URL query)")
			return
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkEndpoints resolves token_url, token_info_url and the impersonation URL.
func checkEndpoints(p *problems, o *Options, pl *plan) {
	mtls := ""
	if pl.kind == srcCert {
		mtls = "mtls."
	}
	stsBase := "https://sts." + mtls + pl.universe
	iamBase := "https://iamcredentials." + mtls + pl.universe
	pl.tokenURL, pl.tokenInfoURL = stsBase+"/v1/token", stsBase+"/v1/introspect"

	tokenURL, infoURL, iamURL := o.TokenURL, o.TokenInfoURL, o.IAMCredentialsURL
	if o.KeylessServer != "" {
		for _, f := range []struct{ flag, v string }{{FlagTokenURL, tokenURL}, {FlagTokenInfoURL, infoURL}, {FlagIAMCredentialsURL, iamURL}} {
			if f.v != "" {
				p.add(f.flag, ErrConflict, "cannot be combined with "+FlagKeylessServer)
			}
		}
		if !checkEndpoint(p, FlagKeylessServer, o.KeylessServer) {
			return
		}
		base := strings.TrimRight(o.KeylessServer, "/")
		tokenURL, infoURL, iamURL = base+"/v1/token", base+"/v1/introspect", base
	} else {
		if tokenURL != "" && !checkEndpoint(p, FlagTokenURL, tokenURL) {
			tokenURL = ""
		}
		if infoURL != "" && !checkEndpoint(p, FlagTokenInfoURL, infoURL) {
			infoURL = ""
		}
		if iamURL != "" && !checkEndpoint(p, FlagIAMCredentialsURL, iamURL) {
			iamURL = ""
		}
	}
	if tokenURL != "" {
		pl.tokenURL = tokenURL
	}
	if o.ServiceAccount != "" {
		if o.TokenInfoURL != "" {
			p.add(FlagTokenInfoURL, ErrConflict, "is written only without "+FlagServiceAccount)
		}
		base := iamBase
		if iamURL != "" {
			base = strings.TrimRight(iamURL, "/")
		}
		pl.impersonationURL = base + fmt.Sprintf(impersonationPathFormat, o.ServiceAccount)
		if len(pl.impersonationURL) > maxImpersonationURLLen {
			p.add(FlagServiceAccount, ErrValue, fmt.Sprintf("the impersonation URL would be %d bytes; Node's google-auth-library refuses more than %d", len(pl.impersonationURL), maxImpersonationURLLen))
		}
		return
	}
	switch {
	case infoURL != "":
		pl.tokenInfoURL = infoURL
	case o.TokenURL != "":
		// Never pair a custom STS with Google's introspection endpoint:
		// gcloud would send the STS token there.
		if head, ok := strings.CutSuffix(o.TokenURL, "/token"); ok {
			pl.tokenInfoURL = head + "/introspect"
		} else {
			p.add(FlagTokenInfoURL, ErrConflict, "required when "+FlagTokenURL+" does not end in /token and there is no "+FlagServiceAccount)
		}
	}
}

// checkEndpoint validates a keyless extension URL: https, or http on a
// loopback host (keyless demo), without query, fragment or credentials.
func checkEndpoint(p *problems, flag, s string) bool {
	if msg := urlProblem(s, false); msg != "" {
		p.add(flag, ErrValue, quote(s)+": "+msg)
		return false
	}
	if strings.HasPrefix(s, "http://") {
		u, _ := url.Parse(s) // parsed by urlProblem
		if !isLoopback(u.Hostname()) {
			p.add(flag, ErrValue, quote(s)+": plain http is allowed only on loopback (tokens would cross the network in clear); use https")
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
