// Command compose-validate loads a Compose file with compose-go v2, the loader Docker Compose v2 itself
// uses, the way `docker compose config` does: same interpolation, env-file and profile handling, schema
// validation and consistency checks. It exits non-zero when the project is invalid, so the repository can
// check docker-compose.yml on machines without a Docker engine.
//
// Usage:
//
//	compose-validate -f docker-compose.yml [--env-file FILE]... [--profile NAME]... [--strict] [--json]
//
// With --json it prints the resolved project (the model `docker compose config --format json` prints).
// With --strict, any loader warning (an unset variable, an obsolete key) is an error too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// warningHook remembers every warning the loader logs, so --strict can refuse them.
type warningHook struct {
	mu       sync.Mutex
	messages []string
}

func (h *warningHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.WarnLevel, logrus.ErrorLevel}
}

func (h *warningHook) Fire(e *logrus.Entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messages = append(h.messages, e.Message)
	return nil
}

type options struct {
	files     listFlag
	envFiles  listFlag
	profiles  listFlag
	workdir   string
	name      string
	strict    bool
	printJSON bool
	noOsEnv   bool
}

func parseArgs(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("compose-validate", flag.ContinueOnError)
	fs.Var(&o.files, "f", "compose file (repeatable; default: compose.yaml/docker-compose.yml in the working directory)")
	fs.Var(&o.envFiles, "env-file", "env file used for interpolation (repeatable; default: .env in the project directory)")
	fs.Var(&o.profiles, "profile", "profile to enable (repeatable; default: COMPOSE_PROFILES)")
	fs.StringVar(&o.workdir, "project-directory", "", "project directory (default: the first file's directory)")
	fs.StringVar(&o.name, "p", "", "project name")
	fs.BoolVar(&o.strict, "strict", false, "treat loader warnings (unset variables, obsolete keys) as errors")
	fs.BoolVar(&o.printJSON, "json", false, "print the resolved project as JSON")
	fs.BoolVar(&o.noOsEnv, "no-os-env", false, "ignore the process environment (only env files feed interpolation)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func load(ctx context.Context, o *options) (*types.Project, error) {
	fns := []cli.ProjectOptionsFn{cli.WithName(o.name)}
	if o.workdir != "" {
		fns = append(fns, cli.WithWorkingDirectory(o.workdir))
	}
	if !o.noOsEnv {
		fns = append(fns, cli.WithOsEnv)
	}
	fns = append(fns,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(o.envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.profiles...),
		cli.WithInterpolation(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	opts, err := cli.NewProjectOptions(o.files, fns...)
	if err != nil {
		return nil, err
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if err := project.CheckContainerNameUnicity(); err != nil {
		return nil, err
	}
	return project.WithServicesEnvironmentResolved(true)
}

func run(args []string) int {
	o, err := parseArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "compose-validate:", err)
		return 2
	}
	hook := &warningHook{}
	logrus.AddHook(hook)

	project, err := load(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-validate: invalid:", err)
		return 1
	}
	if o.strict && len(hook.messages) > 0 {
		fmt.Fprintln(os.Stderr, "compose-validate: invalid (strict): "+strings.Join(hook.messages, "; "))
		return 1
	}
	if o.printJSON {
		out, err := project.MarshalJSON()
		if err != nil {
			fmt.Fprintln(os.Stderr, "compose-validate:", err)
			return 1
		}
		fmt.Println(string(out))
		return 0
	}
	fmt.Fprintf(os.Stderr, "compose-validate: ok: project %q, services: %s\n",
		project.Name, strings.Join(project.ServiceNames(), ", "))
	return 0
}

func main() {
	os.Exit(run(os.Args[1:]))
}
