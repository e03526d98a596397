// Command mattermost starts a Mattermost 9.x development server (a commit of May 2024),
// built from its Go module, for the stretch run of the
// real-server tests (REAL_MM_SERVER=9 scripts/real-mattermost). Like the server's own
// cmd/mattermost: link in the packages that register themselves at init, then hand the
// arguments to the server's command line.
package main

import (
	"os"

	"github.com/mattermost/mattermost/server/v8/cmd/mattermost/commands"
	_ "github.com/mattermost/mattermost/server/v8/channels/app/oauthproviders/gitlab"
	_ "github.com/mattermost/mattermost/server/v8/channels/app/slashcommands"
)

func main() {
	if err := commands.Run(os.Args[1:]); err != nil {
		os.Exit(1)
	}
}
