// Command awssdkgo resolves credentials the way an unmodified aws-sdk-go-v2
// workload does (config.LoadDefaultConfig, environment only) and prints them as
// JSON. Interop tests build it (go build) and run it with a prepared environment.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

type result struct {
	AccessKeyID, SecretAccessKey, SessionToken, Source, AccountID, Region, Error string
	CanExpire                                                                    bool
	Expires                                                                      time.Time
}

func main() {
	imdsRegion := flag.Bool("imds-region", false, "resolve the region from IMDS")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var opts []func(*config.LoadOptions) error
	if *imdsRegion {
		opts = append(opts, config.WithEC2IMDSRegion())
	}
	var res result
	defer func() {
		_ = json.NewEncoder(os.Stdout).Encode(res)
		if res.Error != "" {
			os.Exit(1)
		}
	}()
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		res.Error = err.Error()
		return
	}
	res.Region = cfg.Region
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		res.Error = err.Error()
		return
	}
	res.AccessKeyID, res.SecretAccessKey, res.SessionToken = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
	res.Source, res.AccountID, res.CanExpire, res.Expires = c.Source, c.AccountID, c.CanExpire, c.Expires
}
