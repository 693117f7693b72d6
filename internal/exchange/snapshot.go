package exchange

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/celpolicy"
	"github.com/keylessdev/keyless/internal/config"
	"github.com/keylessdev/keyless/internal/credential/oidc"
	"github.com/keylessdev/keyless/internal/iam"
	"github.com/keylessdev/keyless/internal/jose"
)

// KeySources hands out key sources for remote issuers (the JWKS cache).
type KeySources interface {
	Source(issuer string) oidc.KeySource
}

// Snapshot is the compiled, immutable view of configuration the request path reads.
type Snapshot struct {
	Issuer          string
	projectsByID    map[string]*Project
	projectsByNum   map[string]*Project
	providers       map[string]*Provider // key: ProviderName.String()
	pools           map[string]*Pool     // key: PoolName.String()
	serviceAccounts map[string]*ServiceAccount
	byUniqueID      map[string]*ServiceAccount
	awsRoles        map[string]*AWSRole         // key: role ARN
	awsProviders    map[string]*AWSOIDCProvider // key: provider ARN
	awsByIssuer     map[string]*AWSOIDCProvider // key: account + " " + url
	warnings        []string
}

// Project is a compiled project.
type Project struct {
	ID, Number string
}

// Pool is a compiled workload identity pool.
type Pool struct {
	Name            iam.PoolName
	Project         *Project
	Disabled        bool
	SessionDuration time.Duration
}

// Provider is a compiled provider: verification policy, key source, CEL programs.
type Provider struct {
	Name      iam.ProviderName
	Pool      *Pool
	Disabled  bool
	Kind      string // "oidc" | "aws"
	Policy    *oidc.Policy
	Keys      oidc.KeySource
	Mapping   *celpolicy.Mapping
	Condition *celpolicy.Condition
	// MappingExprs and ConditionExpr are the source texts (for explain).
	MappingExprs  map[string]string
	ConditionExpr string
	// DefaultAudiences is true when allowedAudiences was empty (resource-name audiences).
	DefaultAudiences bool
	// AWSAccountID is the account an aws provider trusts.
	AWSAccountID string
}

// ServiceAccount is a compiled service account with its IAM policy.
type ServiceAccount struct {
	Email, ProjectID, UniqueID, DisplayName string
	Disabled                                bool
	Policy                                  *iam.CompiledPolicy
	RawPolicy                               iam.Policy
}

// Provider returns the provider with the given resource name.
func (s *Snapshot) Provider(name iam.ProviderName) *Provider { return s.providers[name.String()] }

// Pool returns the pool with the given resource name.
func (s *Snapshot) Pool(name iam.PoolName) *Pool { return s.pools[name.String()] }

// ServiceAccount finds a service account by email (case-insensitive) or unique id.
func (s *Snapshot) ServiceAccount(emailOrID string) *ServiceAccount {
	if sa := s.serviceAccounts[strings.ToLower(emailOrID)]; sa != nil {
		return sa
	}
	return s.byUniqueID[emailOrID]
}

// ProjectByID returns a project by id or number.
func (s *Snapshot) ProjectByID(idOrNumber string) *Project {
	if p := s.projectsByID[idOrNumber]; p != nil {
		return p
	}
	return s.projectsByNum[idOrNumber]
}

// Providers lists every provider (for lint and metrics).
func (s *Snapshot) Providers() []*Provider {
	out := make([]*Provider, 0, len(s.providers))
	for _, p := range s.providers {
		out = append(out, p)
	}
	return out
}

// Compile builds a Snapshot from a validated Config. It compiles every CEL program and
// IAM policy and returns every semantic problem at once, with its path.
func Compile(cfg *config.Config, keys KeySources) (*Snapshot, config.Problems) {
	s := &Snapshot{
		Issuer:          cfg.Issuer,
		projectsByID:    map[string]*Project{},
		projectsByNum:   map[string]*Project{},
		providers:       map[string]*Provider{},
		pools:           map[string]*Pool{},
		serviceAccounts: map[string]*ServiceAccount{},
		byUniqueID:      map[string]*ServiceAccount{},
		awsRoles:        map[string]*AWSRole{},
		awsProviders:    map[string]*AWSOIDCProvider{},
		awsByIssuer:     map[string]*AWSOIDCProvider{},
	}
	var probs config.Problems
	if cfg.AWS != nil {
		probs = append(probs, s.compileAWS(cfg.AWS, keys)...)
	}
	add := func(path, format string, args ...any) {
		probs = append(probs, config.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if cfg.Google == nil {
		return s, probs
	}
	for pi, pc := range cfg.Google.Projects {
		pp := fmt.Sprintf("google.projects[%d]", pi)
		proj := &Project{ID: pc.ProjectID, Number: pc.ProjectNumber}
		s.projectsByID[proj.ID] = proj
		s.projectsByNum[proj.Number] = proj
		for wi, wc := range pc.WorkloadIdentityPools {
			wp := fmt.Sprintf("%s.workloadIdentityPools[%d]", pp, wi)
			pool := &Pool{Name: iam.PoolName{ProjectNumber: proj.Number, PoolID: wc.WorkloadIdentityPoolID}, Project: proj, Disabled: wc.Disabled}
			if wc.SessionDuration != "" {
				d, err := time.ParseDuration(wc.SessionDuration)
				if err != nil {
					add(wp+".sessionDuration", "%v", err)
				}
				pool.SessionDuration = d
			}
			s.pools[pool.Name.String()] = pool
			for vi, vc := range wc.Providers {
				vp := fmt.Sprintf("%s.providers[%d]", wp, vi)
				prov, ps := compileProvider(pool, vc, vp, keys)
				probs = append(probs, ps...)
				if prov != nil {
					s.providers[prov.Name.String()] = prov
				}
			}
		}
		for si, sc := range pc.ServiceAccounts {
			sp := fmt.Sprintf("%s.serviceAccounts[%d]", pp, si)
			sa := &ServiceAccount{
				Email:       iam.ServiceAccountEmail(sc.AccountID, proj.ID),
				ProjectID:   proj.ID,
				UniqueID:    sc.UniqueID,
				DisplayName: sc.DisplayName,
				Disabled:    sc.Disabled,
			}
			if sa.UniqueID == "" {
				sa.UniqueID = derivedUniqueID(sa.Email)
			}
			var pol iam.Policy
			if sc.IAMPolicy != nil {
				pol = toIAMPolicy(sc.IAMPolicy)
			}
			cp, errs := iam.CompilePolicy(pol)
			for _, err := range errs {
				add(sp+".iamPolicy", "%v", err)
			}
			sa.Policy, sa.RawPolicy = cp, pol
			s.serviceAccounts[strings.ToLower(sa.Email)] = sa
			s.byUniqueID[sa.UniqueID] = sa
		}
	}
	return s, probs
}

func toIAMPolicy(p *config.IAMPolicy) iam.Policy {
	out := iam.Policy{Version: p.Version, Etag: p.Etag}
	for _, b := range p.Bindings {
		nb := iam.Binding{Role: b.Role, Members: append([]string(nil), b.Members...)}
		if b.Condition != nil {
			nb.Condition = &iam.Expr{Expression: b.Condition.Expression, Title: b.Condition.Title,
				Description: b.Condition.Description, Location: b.Condition.Location}
		}
		out.Bindings = append(out.Bindings, nb)
	}
	return out
}

func compileProvider(pool *Pool, vc config.Provider, path string, keys KeySources) (*Provider, config.Problems) {
	var probs config.Problems
	add := func(p, format string, args ...any) {
		probs = append(probs, config.Problem{Path: p, Message: fmt.Sprintf(format, args...)})
	}
	prov := &Provider{
		Name:          iam.ProviderName{Pool: pool.Name, ProviderID: vc.WorkloadIdentityPoolProviderID},
		Pool:          pool,
		Disabled:      vc.Disabled,
		MappingExprs:  vc.AttributeMapping,
		ConditionExpr: vc.AttributeCondition,
	}
	switch {
	case vc.OIDC != nil:
		prov.Kind = "oidc"
		auds := vc.OIDC.AllowedAudiences
		if len(auds) == 0 {
			prov.DefaultAudiences = true
			auds = []string{prov.Name.HTTPSAudience(), prov.Name.Audience()}
		}
		prov.Policy = &oidc.Policy{
			Issuer:      vc.OIDC.IssuerURI,
			Audiences:   auds,
			AllowedAlgs: jose.DefaultAlgorithms(),
			Leeway:      60 * time.Second,
			MaxLifetime: 48 * time.Hour,
			RequireKID:  true,
		}
		if vc.OIDC.JWKSJSON != "" {
			set, dropped, err := jose.ParseKeySet([]byte(vc.OIDC.JWKSJSON))
			switch {
			case err != nil:
				add(path+".oidc.jwksJson", "%v", err)
			case len(dropped) > 0:
				for _, d := range dropped {
					add(path+".oidc.jwksJson", "key %d (kid %q) would be ignored: %s", d.Index, d.KID, d.Reason)
				}
			default:
				prov.Keys = oidc.StaticKeys{Set: set}
			}
		} else if keys != nil {
			prov.Keys = keys.Source(vc.OIDC.IssuerURI)
		}
	case vc.AWS != nil:
		prov.Kind = "aws"
		prov.AWSAccountID = vc.AWS.AccountID
	}
	mapping := vc.AttributeMapping
	if len(mapping) == 0 && prov.Kind == "aws" {
		mapping = celpolicy.DefaultAWSMapping()
		prov.MappingExprs = mapping
	}
	m, errs := celpolicy.CompileMapping(mapping, celpolicy.Options{})
	for _, e := range errs {
		p := path + ".attributeMapping"
		if e.Key != "" {
			p += "[" + strconv.Quote(e.Key) + "]"
		}
		add(p, "%s", e.Message)
	}
	prov.Mapping = m
	if vc.AttributeCondition != "" {
		c, err := celpolicy.CompileCondition(vc.AttributeCondition, celpolicy.Options{})
		if err != nil {
			add(path+".attributeCondition", "%s", err.Message)
		}
		prov.Condition = c
		if c != nil && m != nil {
			for _, e := range c.CheckMapping(m) {
				add(path+".attributeCondition", "%s", e.Message)
			}
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return prov, nil
}

// Check compiles cfg and returns its semantic problems only (for config.LoadWith).
func Check(cfg *config.Config) config.Problems {
	_, probs := Compile(cfg, nil)
	return probs
}
