package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// URLSource fetches the web identity token from a URL (Google's "url" credential source
// shape: optional headers, text or a JSON field).
type URLSource struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Format  *SourceFormat     `json:"format,omitempty"`
}

// SourceFormat says how the token is read from a body: "text" (default) or "json" with
// the field holding it.
type SourceFormat struct {
	Type                  string `json:"type,omitempty"`
	SubjectTokenFieldName string `json:"subjectTokenFieldName,omitempty"`
}

// ExecSource runs a command that prints Google's executable-source response (what
// `keyless token --format executable` prints).
type ExecSource struct {
	Command       string `json:"command"`
	TimeoutMillis int    `json:"timeoutMillis,omitempty"`
}

// maxIdentityBytes bounds a web identity answer (STS accepts 20000 characters).
const maxIdentityBytes = 64 << 10

// urlIdentity implements stscreds.IdentityTokenRetriever over a URLSource.
type urlIdentity struct {
	src    URLSource
	client *http.Client
}

func (u urlIdentity) GetIdentityToken() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.src.URL, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range u.src.Headers {
		req.Header.Set(k, v)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("web identity url: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIdentityBytes+1))
	if err != nil {
		return nil, fmt.Errorf("web identity url: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("web identity url: status %d", resp.StatusCode)
	}
	if len(body) > maxIdentityBytes {
		return nil, errors.New("web identity url: answer too large")
	}
	return tokenFromBody(body, u.src.Format)
}

func tokenFromBody(body []byte, f *SourceFormat) ([]byte, error) {
	if f == nil || f.Type == "" || strings.EqualFold(f.Type, "text") {
		tok := bytes.TrimSpace(body)
		if len(tok) == 0 {
			return nil, errors.New("web identity: empty token")
		}
		return tok, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errors.New("web identity: the answer is not a JSON object")
	}
	tok, _ := m[f.SubjectTokenFieldName].(string)
	if tok == "" {
		return nil, fmt.Errorf("web identity: no string field %q in the answer", f.SubjectTokenFieldName)
	}
	return []byte(tok), nil
}

// execIdentity implements stscreds.IdentityTokenRetriever over an ExecSource, reading
// Google's executable-source response format.
type execIdentity struct {
	src     ExecSource
	roleARN string
	now     func() time.Time
}

func (e execIdentity) GetIdentityToken() ([]byte, error) {
	timeout := time.Duration(e.src.TimeoutMillis) * time.Millisecond
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := strings.Fields(e.src.Command)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0",
		"GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE=urn:ietf:params:oauth:token-type:jwt", "KEYLESS_AWS_ROLE_ARN="+e.roleARN)
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxIdentityBytes}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("web identity executable: %w", err)
	}
	var r struct {
		Version        int    `json:"version"`
		Success        *bool  `json:"success"`
		TokenType      string `json:"token_type"`
		IDToken        string `json:"id_token"`
		ExpirationTime int64  `json:"expiration_time"`
		Code           string `json:"code"`
		Message        string `json:"message"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, errors.New("web identity executable: output is not the executable-source JSON response")
	}
	switch {
	case r.Version != 1:
		return nil, fmt.Errorf("web identity executable: version %d, want 1", r.Version)
	case r.Success == nil:
		return nil, errors.New("web identity executable: no success field")
	case !*r.Success:
		return nil, fmt.Errorf("web identity executable failed: %s: %s", r.Code, r.Message)
	case r.TokenType != "urn:ietf:params:oauth:token-type:jwt" && r.TokenType != "urn:ietf:params:oauth:token-type:id_token":
		return nil, fmt.Errorf("web identity executable: token_type %q is not a JWT", r.TokenType)
	case r.IDToken == "":
		return nil, errors.New("web identity executable: no id_token")
	case r.ExpirationTime != 0 && !e.now().Before(time.Unix(r.ExpirationTime, 0)):
		return nil, errors.New("web identity executable: the token has expired")
	}
	return []byte(r.IDToken), nil
}

// limitedWriter keeps at most n bytes and fails beyond them.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errors.New("output too large")
	}
	l.n -= len(p)
	return l.w.Write(p)
}
