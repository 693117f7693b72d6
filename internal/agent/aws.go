package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AWSExchange assumes a role with a web identity token file through aws-sdk-go-v2's
// own web identity provider (the token file is re-read at every call: Kubernetes
// projected tokens rotate).
type AWSExchange struct {
	provider *stscreds.WebIdentityRoleProvider
	cfg      AWSConfig
}

// NewAWSExchange builds the AWS pipeline's exchange. identity, when non-nil, supplies
// the web identity token instead of c.WebIdentityTokenFile.
func NewAWSExchange(c AWSConfig, identity stscreds.IdentityTokenRetriever) (*AWSExchange, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", c.CAFile)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment}
	}
	opts := sts.Options{Region: c.Region, HTTPClient: hc, RetryMaxAttempts: 1}
	if c.STSEndpoint != "" {
		opts.BaseEndpoint = aws.String(c.STSEndpoint)
	}
	if identity == nil {
		identity = stscreds.IdentityTokenFile(c.WebIdentityTokenFile)
	}
	p := stscreds.NewWebIdentityRoleProvider(sts.New(opts), c.RoleARN, identity,
		func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = c.sessionName()
			if d := c.duration(); d > 0 {
				o.Duration = d
			}
		})
	return &AWSExchange{provider: p, cfg: c}, nil
}

// Credentials calls AssumeRoleWithWebIdentity.
func (a *AWSExchange) Credentials(ctx context.Context) (aws.Credentials, error) {
	return a.provider.Retrieve(ctx)
}

// RoleName is the role's name (what IMDS lists), without its path.
func (a *AWSExchange) RoleName() string {
	arn := a.cfg.RoleARN
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
