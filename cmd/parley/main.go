// Command parley is the Parley contact center: one binary that serves the
// contact center (serve), runs a complete demo on loopback (demo), manages
// tenants, users, queues and numbers (admin), runs the bundled CRM emulator
// (devcrm), places test calls (call) and checks configuration (check-config).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const usage = `Parley: an open-source contact center that lives inside the CRM.

Usage:
  parley demo [--data DIR] [--http ADDR] [--sip ADDR] [--crm ADDR]
                             run everything on loopback with a seeded tenant and devcrm
  parley serve [--config FILE] [--data DIR] [--http ADDR] [--sip ADDR] [--pprof ADDR]
                             run the contact center
  parley admin COMMAND ...   manage tenants, users, queues, numbers, trunks and the CRM
                             (parley admin help)
  parley devcrm [--addr ADDR] [--data DIR] [--seed DIR]
                             run the bundled Salesforce-compatible CRM emulator
  parley call --to SIPURI [--from NUMBER] [--play WAV] [--record WAV] [--duration D] [--dtmf DIGITS]
                             place a real SIP call (or answer calls with --answer)
  parley check-config [--config FILE]
                             validate the configuration and print it
  parley version             print the version

Run "parley COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "admin":
		err = runAdmin(ctx, args[1:], stdout, stderr)
	case "devcrm":
		err = runDevCRM(ctx, args[1:], stdout, stderr)
	case "call":
		err = runCall(ctx, args[1:], stdout, stderr)
	case "check-config":
		err = runCheckConfig(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "parley", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	var ex exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(stderr, "parley:", ex.msg)
		}
		return ex.code
	}
	fmt.Fprintln(stderr, "parley:", err)
	return 1
}

// errUsage reports a command-line mistake already explained on stderr.
var errUsage = errors.New("usage")

// exitError ends with a given status.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// newFlagSet returns a flag set that writes its errors to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and maps flag errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}
