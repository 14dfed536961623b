// compose-check validates a Compose file the way `docker compose config` does, without a Docker
// engine or the compose plugin: compose-go (the library the compose CLI is built on) checks the
// file against the Compose Specification JSON schema it embeds, then interpolates, normalizes and
// checks references (depends_on targets, volumes, healthcheck durations).
//
// Usage: compose-check FILE. Prints the services it found and exits 0, or prints why and exits 1.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check docker-compose.yml")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(
		[]string{os.Args[1]},
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Printf("valid: project %q, services %v\n", project.Name, names)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "invalid: %v\n", err)
	os.Exit(1)
}
