// Command leakwatch watches Cisco Meeting Server Web Bridge 2 for leaked
// sessions (bug CSCvt73723), exports what it sees to Prometheus, and
// restarts a provably leaking Web Bridge over SSH when every guard agrees.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/leakwatch/leakwatch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
