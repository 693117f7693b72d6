package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keylessdev/keyless/internal/agent"
)

func tokenCmd() *cobra.Command {
	var credFile, format, caFile string
	var scopes []string
	c := &cobra.Command{
		Use:   "token --cred-file FILE",
		Short: "Perform the exchange a credential configuration describes and print the token",
		Long: `Runs the exchange an external_account credential configuration describes (any credential
source: file, url, executable, aws; then STS and, when configured, service account
impersonation), against keyless or Google, and prints the access token.

  --format token       the bare token (default)
  --format json        {"access_token", "token_type", "expires_in", "expiry"}
  --format executable  Google's executable-source response, so this command can itself be
                       the executable of another credential configuration`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if credFile == "" {
				return fmt.Errorf("--cred-file is required")
			}
			g, err := agent.NewGoogleExchange(credFile, caFile, nil)
			if err != nil {
				return err
			}
			tok, err := g.AccessToken(cmd.Context(), scopes)
			if err != nil {
				if format == "executable" {
					return writeJSON(cmd, map[string]any{"version": 1, "success": false, "code": "EXCHANGE_FAILED", "message": err.Error()})
				}
				return err
			}
			out := cmd.OutOrStdout()
			switch format {
			case "token", "":
				_, err = fmt.Fprintln(out, tok.AccessToken)
				return err
			case "json":
				return writeJSON(cmd, map[string]any{"access_token": tok.AccessToken, "token_type": tok.Type(),
					"expires_in": int64(time.Until(tok.Expiry).Seconds()), "expiry": tok.Expiry.UTC().Format(time.RFC3339)})
			case "executable":
				return writeJSON(cmd, map[string]any{"version": 1, "success": true, "token_type": "urn:ietf:params:oauth:token-type:jwt",
					"id_token": tok.AccessToken, "expiration_time": tok.Expiry.Unix()})
			}
			return fmt.Errorf("--format %q: want token, json or executable", format)
		},
	}
	f := c.Flags()
	f.StringVar(&credFile, "cred-file", "", "external_account credential configuration")
	f.StringVar(&format, "format", "token", "token, json or executable")
	f.StringSliceVar(&scopes, "scopes", nil, "scopes (default cloud-platform)")
	f.StringVar(&caFile, "ca-file", "", "extra trusted roots for the token and impersonation endpoints")
	return c
}

func writeJSON(cmd *cobra.Command, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(string(b)))
	return err
}
