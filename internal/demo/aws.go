package demo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/keylessdev/keyless/internal/audit"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/store"
)

// AWS side of the demo federation.
const (
	AWSAccountID  = "210987654321"
	AWSRoleName   = "checkout-writer"
	AWSRolePath   = "/eks/"
	AWSProviderID = "aws-eks"
	// AWSClientID is the audience of web identity tokens for AWS.
	AWSClientID = "sts.amazonaws.com"
	// checkoutSubject is the one service account the role trusts.
	checkoutSubject = "system:serviceaccount:shop:checkout"
)

// AWSRoleARN is the demo role's ARN.
func AWSRoleARN() string { return "arn:aws:iam::" + AWSAccountID + ":role" + AWSRolePath + AWSRoleName }

// AWSRoleSessionPrefix is the role's sessions without the session name: the value of
// attribute.aws_role under Google's default AWS mapping.
func AWSRoleSessionPrefix() string {
	return "arn:aws:sts::" + AWSAccountID + ":assumed-role/" + AWSRoleName
}

// awsConfig is the AWS account: the Kubernetes issuer as IAM OIDC provider, and a role
// whose trust policy admits one service account of namespace shop and, as a
// guardrail, denies every kube-system service account.
func awsConfig(k8sURL string) *config.AWS {
	host := strings.TrimPrefix(k8sURL, "https://")
	fed := `"Principal":{"Federated":"arn:aws:iam::` + AWSAccountID + `:oidc-provider/` + host + `"},"Action":"sts:AssumeRoleWithWebIdentity"`
	trust := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"CheckoutServiceAccount","Effect":"Allow",` + fed + `,` +
		`"Condition":{"StringEquals":{"` + host + `:sub":"` + checkoutSubject + `","` + host + `:aud":"` + AWSClientID + `"}}},` +
		`{"Sid":"NeverKubeSystem","Effect":"Deny",` + fed + `,` +
		`"Condition":{"StringLike":{"` + host + `:sub":"system:serviceaccount:kube-system:*"}}}]}`
	return &config.AWS{Accounts: []config.AWSAccount{{
		AccountID:              AWSAccountID,
		OpenIDConnectProviders: []config.OpenIDConnectProvider{{URL: k8sURL, ClientIDList: []string{AWSClientID}}},
		Roles: []config.Role{{RoleName: AWSRoleName, Path: AWSRolePath, MaxSessionDuration: 3600,
			AssumeRolePolicyDocument: []byte(trust)}},
	}}}
}

// stsClient is aws-sdk-go-v2's STS client pointed at keyless.
func (d *Demo) stsClient(creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(d.Server.URL), Credentials: creds,
		HTTPClient: d.client, RetryMaxAttempts: 1})
}

// assumeRole calls AssumeRoleWithWebIdentity with a Kubernetes token for namespace/sa.
func (d *Demo) assumeRole(ctx context.Context, namespace, sa string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	tok, err := d.K8s.Mint(K8sClaims(namespace, sa, AWSClientID))
	if err != nil {
		return nil, err
	}
	return d.stsClient(nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(AWSRoleARN()), RoleSessionName: aws.String(sa + "-7d9f8"), WebIdentityToken: aws.String(tok)})
}

// crossCloudChain: a Kubernetes token becomes AWS role credentials (aws-sdk-go-v2),
// those sign a GetCallerIdentity, and the same credentials federate into Google
// (x/oauth2 externalaccount, aws4_request) and impersonate checkout-sa.
func (d *Demo) crossCloudChain(ctx context.Context) error {
	started := time.Now().Add(-time.Second)
	out, err := d.assumeRole(ctx, "shop", "checkout")
	if err != nil {
		d.unexpected("AssumeRoleWithWebIdentity: %v", err)
		return nil
	}
	chain, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	c := out.Credentials
	fmt.Fprintf(d.out, "   aws-sdk-go-v2 AssumeRoleWithWebIdentity -> %s\n", aws.ToString(out.AssumedRoleUser.Arn))
	fmt.Fprintf(d.out, "     credentials %s, expire %s\n", aws.ToString(c.AccessKeyId), aws.ToTime(c.Expiration).UTC().Format(time.RFC3339))
	creds := aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken)}

	gci, err := d.stsClient(credentials.StaticCredentialsProvider{Value: creds}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		d.unexpected("GetCallerIdentity: %v", err)
		return nil
	}
	fmt.Fprintf(d.out, "   GetCallerIdentity signed (SigV4) with them -> %s\n", aws.ToString(gci.Arn))

	cfg := externalaccount.Config{
		Audience:                       ProviderAudience(AWSProviderID),
		SubjectTokenType:               "urn:ietf:params:aws:token-type:aws4_request",
		TokenURL:                       d.Server.URL + "/v1/token",
		Scopes:                         []string{"https://www.googleapis.com/auth/cloud-platform"},
		ServiceAccountImpersonationURL: d.Server.URL + "/v1/projects/-/serviceAccounts/" + CheckoutSA + ":generateAccessToken",
		AwsSecurityCredentialsSupplier: awsSupplier{externalaccount.AwsSecurityCredentials{
			AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}},
	}
	octx := context.WithValue(ctx, oauth2.HTTPClient, d.client)
	ts, err := externalaccount.NewTokenSource(octx, cfg)
	if err == nil {
		var tok *oauth2.Token
		if tok, err = ts.Token(); err == nil && tok.AccessToken == "" {
			err = errors.New("empty access token")
		}
	}
	if err != nil {
		d.unexpected("Google federation from AWS: %v", err)
		return nil
	}
	fmt.Fprintf(d.out, "   x/oauth2 externalaccount (aws4_request) -> Google STS -> generateAccessToken -> token for %s\n", CheckoutSA)
	return d.printChain(ctx, chain, started)
}

// chainLinks are the decisions the cross-cloud chain makes, in order.
var chainLinks = []string{
	"aws.sts AssumeRoleWithWebIdentity", "aws.sts GetCallerIdentity",
	"google.sts token", "google.iamcredentials generateAccessToken",
}

// printChain lists the audited decisions sharing the correlation key chain and checks
// that every link of the chain is among them.
func (d *Demo) printChain(ctx context.Context, chain string, since time.Time) error {
	if chain == "" {
		d.unexpected("AssumeRoleWithWebIdentity answered without a request id (the decision id)")
		return nil
	}
	recs, err := d.Server.Store.QueryAudit(ctx, store.AuditQuery{Since: since, Limit: 1000})
	if err != nil {
		return err
	}
	type link struct{ name, who, id string }
	var links []link
	for _, r := range recs {
		ev, err := audit.DecodeEvent(r.Data)
		if err != nil {
			return err
		}
		if ev.Correlation["chain"] != chain || ev.Outcome != audit.OutcomeAllow {
			continue
		}
		who := ev.Principal
		if ev.ServiceAccount != "" {
			who = ev.ServiceAccount
		}
		links = append(links, link{ev.Dialect + " " + ev.Method, who, ev.DecisionID})
	}
	sort.SliceStable(links, func(i, j int) bool { return links[i].id < links[j].id })
	fmt.Fprintf(d.out, "   audit: every link carries correlation chain=%s\n", chain)
	seen := map[string]bool{}
	for _, l := range links {
		seen[l.name] = true
		fmt.Fprintf(d.out, "     %-42s %s  %s\n", l.name, l.id, l.who)
	}
	for _, want := range chainLinks {
		if !seen[want] {
			d.unexpected("no allowed %s decision carries chain=%s", want, chain)
		}
	}
	return nil
}

// trustPolicyDenial: a service account of the wrong namespace asks for the role; the
// SDK's error is printed as a user sees it, then the decision it names, explained.
func (d *Demo) trustPolicyDenial(ctx context.Context) error {
	_, err := d.assumeRole(ctx, "payments", "checkout")
	if err == nil {
		d.unexpected("AssumeRoleWithWebIdentity succeeded, the demo expected AccessDenied")
		return nil
	}
	fmt.Fprintf(d.out, "   aws-sdk-go-v2 AssumeRoleWithWebIdentity -> error:\n     %v\n", err)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		d.unexpected("the demo expected an AccessDenied API error")
		return nil
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.ServiceRequestID() == "" {
		d.unexpected("the error carries no request id (the decision id)")
		return nil
	}
	fmt.Fprintf(d.out, "   the request id is the decision id; GET /v1/decisions/%s explains it:\n", re.ServiceRequestID())
	return d.explain(ctx, re.ServiceRequestID())
}

// awsSupplier hands fixed AWS credentials to x/oauth2's external account flow (the
// role credentials a workload on AWS would read from its environment).
type awsSupplier struct {
	c externalaccount.AwsSecurityCredentials
}

func (s awsSupplier) AwsRegion(context.Context, externalaccount.SupplierOptions) (string, error) {
	return "us-east-1", nil
}

func (s awsSupplier) AwsSecurityCredentials(context.Context, externalaccount.SupplierOptions) (*externalaccount.AwsSecurityCredentials, error) {
	c := s.c
	return &c, nil
}
