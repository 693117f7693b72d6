// Command gcemetago obtains credentials from the GCE metadata server the way an
// unmodified Go workload does: cloud.google.com/go/compute/metadata for the
// instance facts and an ID token, golang.org/x/oauth2/google's
// FindDefaultCredentials for an access token. The server is GCE_METADATA_HOST.
// It prints one JSON object, with "error" set (exit 1) on the first failure.
//
// It runs in its own process because the metadata package caches OnGCE and the
// project for the life of a process.
//
//	gcemetago AUDIENCE
package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2/google"
)

type result struct {
	OnGCE            bool      `json:"onGCE"`
	ProjectID        string    `json:"projectId"`
	NumericProjectID string    `json:"numericProjectId"`
	Email            string    `json:"email"`
	ADCProjectID     string    `json:"adcProjectId"`
	AccessToken      string    `json:"accessToken"`
	TokenType        string    `json:"tokenType"`
	Expiry           time.Time `json:"expiry"`
	IDToken          string    `json:"idToken"`
	Error            string    `json:"error,omitempty"`
}

func main() {
	var res result
	err := run(&res)
	if err != nil {
		res.Error = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	if err != nil {
		os.Exit(1)
	}
}

func run(res *result) error {
	if len(os.Args) != 2 {
		return errors.New("usage: gcemetago AUDIENCE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if res.OnGCE = metadata.OnGCE(); !res.OnGCE {
		return errors.New("metadata.OnGCE() = false")
	}
	var err error
	if res.ProjectID, err = metadata.ProjectID(); err != nil {
		return err
	}
	if res.NumericProjectID, err = metadata.NumericProjectID(); err != nil {
		return err
	}
	if res.Email, err = metadata.Email(""); err != nil {
		return err
	}
	creds, err := google.FindDefaultCredentials(ctx, "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		return err
	}
	res.ADCProjectID = creds.ProjectID
	tok, err := creds.TokenSource.Token()
	if err != nil {
		return err
	}
	res.AccessToken, res.TokenType, res.Expiry = tok.AccessToken, tok.Type(), tok.Expiry
	res.IDToken, err = metadata.GetWithContext(ctx, "instance/service-accounts/default/identity?format=full&audience="+url.QueryEscape(os.Args[1]))
	return err
}
