package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/store"
)

// tokenFlagKeys maps token's flags onto config keys.
var tokenFlagKeys = map[string]string{"data-dir": "data.dir"}

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint API tokens signed with this data directory's key",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTokenCreateCmd(g), newAPIKeyCmd(g))
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

func newAPIKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Create, list and revoke API keys for scripts (kept hashed in the store)",
		Long: `apikey manages API keys in the store of the data directory; it works while a
server runs on the same directory. A key ("cp_…") is printed once, at
creation; only its sha256 is stored. Scripts send it as
"Authorization: Bearer cp_…". A server notices a revocation made here
within 10 seconds (one made through its API at once). Creations and
revocations are recorded in the audit log.`,
		Args: cobra.NoArgs,
	}
	var role, tenant, subject string
	create := &cobra.Command{
		Use:   "create --role R --tenant T --subject S",
		Short: "Create a key; prints it on the last line of stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			return withKeyStore(cmd, g, func(ctx context.Context, b *auth.StoreBackend) error {
				key, k, err := auth.CreateAPIKey(ctx, b, auth.APIKeySpec{Subject: subject, Tenant: tenant, Role: r}, time.Now())
				if err != nil {
					return err
				}
				if err := auditCLI(ctx, b, k.Tenant, "apikey:"+k.Hash, map[string]any{"subject": k.Subject, "granted_role": string(k.Role), "granted_tenant": k.Tenant}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s API key for tenant %q, subject %q, hash %s (shown once):\n", k.Role, k.Tenant, k.Subject, k.Hash)
				fmt.Fprintln(cmd.OutOrStdout(), key)
				return nil
			})
		},
	}
	create.Flags().StringVar(&role, "role", "", "admin, operator or viewer (required)")
	create.Flags().StringVar(&tenant, "tenant", "", "tenant the key acts in (required)")
	create.Flags().StringVar(&subject, "subject", "", "the script or owner the key stands for (required)")
	for _, f := range []string{"role", "tenant", "subject"} {
		_ = create.MarkFlagRequired(f)
	}
	revoke := &cobra.Command{
		Use:   "revoke KEY|HASH",
		Short: "Revoke a key, given the key itself or its hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hash := args[0]
			if auth.IsAPIKey(hash) {
				hash = auth.HashAPIKey(hash)
			}
			return withKeyStore(cmd, g, func(ctx context.Context, b *auth.StoreBackend) error {
				k, err := b.LookupAPIKey(ctx, hash)
				if err != nil {
					return fmt.Errorf("revoke api key %s: %w", hash, err)
				}
				if err := b.RevokeAPIKey(ctx, hash); err != nil {
					return fmt.Errorf("revoke api key %s: %w", hash, err)
				}
				if err := auditCLI(ctx, b, k.Tenant, "apikey:"+hash, map[string]any{"revoked": true}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", hash)
				return nil
			})
		},
	}
	var listTenant string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--tenant T] [--json]",
		Short: "List keys: hash, subject, tenant, role, created, revoked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withKeyStore(cmd, g, func(ctx context.Context, b *auth.StoreBackend) error {
				ks, err := b.ListAPIKeys(ctx, listTenant)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(ks)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "HASH\tSUBJECT\tTENANT\tROLE\tCREATED\tREVOKED")
				for _, k := range ks {
					revoked := "-"
					if !k.RevokedAt.IsZero() {
						revoked = k.RevokedAt.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Hash, k.Subject, k.Tenant, k.Role, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant's keys")
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	for _, c := range []*cobra.Command{create, revoke, list} {
		c.Flags().String("data-dir", "./data", "data directory holding the store (config data.dir)")
		cmd.AddCommand(c)
	}
	return cmd
}

// withKeyStore opens the store of the configured data directory for fn.
func withKeyStore(cmd *cobra.Command, g *globals, fn func(context.Context, *auth.StoreBackend) error) error {
	cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: tokenFlagKeys})
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := store.Open(ctx, store.Options{Dir: cfg.Data.Dir, Logger: g.logger()})
	if err != nil {
		return err
	}
	ferr := fn(ctx, auth.NewStoreBackend(st))
	if err := st.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("close store: %w", err)
	}
	return ferr
}

// auditCLI records an API key change made from the command line.
func auditCLI(ctx context.Context, log auth.AuditLog, tenant, target string, details map[string]any) error {
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	if h, err := os.Hostname(); err == nil {
		details["host"] = h
	}
	details["via"] = "cli"
	e := auth.Entry{Time: time.Now().UTC(), Actor: actor, Tenant: tenant, Role: auth.RoleAdmin, Action: string(auth.ActAPIKeysManage),
		Target: target, Result: "ok", Details: details}
	if err := log.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", target, err)
	}
	return nil
}
