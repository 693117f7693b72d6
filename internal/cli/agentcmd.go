package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keylessdev/keyless/internal/agent"
)

func agentCmd() *cobra.Command {
	var cfgPath string
	c := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Keep workload credentials fresh and serve them over the metadata endpoints SDKs read",
		Long: `Runs beside a workload: obtains its identity, exchanges it (Google external_account
configuration and/or AWS AssumeRoleWithWebIdentity, chained when the Google configuration
has an aws credential source), refreshes ahead of expiry, and serves the credentials as a
GCE metadata server, AWS IMDSv2 and the AWS container credentials endpoint, and as files.
It prints one line "keyless agent serving NAME=ADDR ..." when ready.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return fmt.Errorf("--config is required")
			}
			cfg, err := agent.LoadConfig(cfgPath)
			if err != nil {
				return fmt.Errorf("invalid agent configuration, not starting:\n%w", err)
			}
			a, err := agent.New(agent.Options{Config: cfg, Logger: logger()})
			if err != nil {
				return fmt.Errorf("agent: %w", err)
			}
			var eps []string
			for name, addr := range a.Addrs {
				eps = append(eps, name+"="+addr)
			}
			sort.Strings(eps)
			fmt.Fprintf(cmd.OutOrStdout(), "keyless agent serving %s\n", strings.Join(eps, " "))
			return a.Run(cmd.Context())
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "agent configuration file (YAML or JSON)")
	return c
}
