// compose-check validates a Compose file the way `docker compose config` does, without a Docker
// engine or the compose plugin: compose-go (the library the compose CLI is built on) checks the
// file against the Compose Specification JSON schema it embeds, then interpolates, normalizes and
// checks references (depends_on targets, volumes, healthcheck durations).
//
// Usage: compose-check [--json] FILE [FILE...]. Several files are merged in order, as
// `docker compose -f FILE -f FILE` merges them (overrides, `!reset` and `!override` tags). Prints
// the services it found and exits 0, or prints why and exits 1; with --json it prints the merged
// project instead, as `docker compose config --format json` would.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	files := os.Args[1:]
	asJSON := len(files) > 0 && files[0] == "--json"
	if asJSON {
		files = files[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [--json] docker-compose.yml [override.yml...]")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(
		files,
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
	if asJSON {
		out, err := project.MarshalJSON()
		if err != nil {
			fail(err)
		}
		fmt.Println(string(out))
		return
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Printf("valid: project %q, services %v\n", project.Name, names)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "invalid: %v\n", err)
	os.Exit(1)
}
