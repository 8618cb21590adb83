package main

import (
	"context"
	"fmt"
	"net"

	"github.com/nova-social/nova/internal/app"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/logging"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	cfg, err := config.Load("nova serve", args, env.getenv, env.stderr)
	if err != nil {
		return err
	}
	if err := cfg.ValidateServe(); err != nil {
		return err
	}
	log := logging.New(env.stderr, cfg.Env == config.Production, cfg.LogLevel)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	return a.Run(ctx, ln)
}
