package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/config"
)

// tokenFlagKeys maps token's flags onto config keys.
var tokenFlagKeys = map[string]string{"data-dir": "data.dir"}

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint API tokens signed with this data directory's key",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTokenCreateCmd(g))
	return cmd
}

func newTokenCreateCmd(g *globals) *cobra.Command {
	var role, tenant, subject string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create --role admin|operator|viewer --tenant T",
		Short: "Print a new bearer token (the first admin's comes from here)",
		Long: `token create signs a JWT with the Ed25519 key kept in the data directory
(data.dir/auth/jwt-ed25519.key, created on first use) and prints it on the
last line of stdout; a line about it goes to stderr. A server using the
same data directory accepts it, also one already running.

Use it as "Authorization: Bearer <token>", or export CLOUDPHONE_TOKEN for
the CLI. Roles: viewer reads tasks, devices, plugins, slices, screenshots
and events; operator also runs, cancels, confirms and resumes tasks; admin
does everything, including the audit log, tokens, API keys, plugin actions
and acting for other tenants.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			if tenant == "" {
				return fmt.Errorf("--tenant is required (the tenant the token acts in, e.g. %q)", auth.DefaultTenant)
			}
			cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: tokenFlagKeys})
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("ttl") {
				ttl = cfg.API.Auth.TokenTTL
			}
			if ttl <= 0 {
				return fmt.Errorf("--ttl %v: want a positive duration", ttl)
			}
			key, err := auth.LoadOrCreateKey(cfg.Data.Dir)
			if err != nil {
				return err
			}
			tok, p, err := auth.NewSigner(key, nil).Sign(auth.TokenSpec{Subject: subject, Tenant: tenant, Role: r, TTL: ttl})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s token for tenant %q, subject %q, expires %s (key %s):\n",
				p.Role, p.Tenant, p.Subject, p.ExpiresAt.UTC().Format(time.RFC3339), auth.KeyPath(cfg.Data.Dir))
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "admin, operator or viewer (required)")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant the token acts in (required)")
	cmd.Flags().StringVar(&subject, "subject", "cli", "who the token stands for (audit log actor)")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "lifetime (default: config api.auth.token_ttl)")
	cmd.Flags().String("data-dir", "./data", "data directory holding the signing key (config data.dir)")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}
