// Command mattermost starts Mattermost server 7.7.0, built from its Go module, for the
// real-server tests (scripts/real-mattermost). It does what the server's own
// cmd/mattermost does: link in the optional packages that register themselves at init,
// then hand the arguments to the server's command line.
package main

import (
	"os"

	_ "github.com/mattermost/mattermost-server/v6/app/slashcommands"
	"github.com/mattermost/mattermost-server/v6/cmd/mattermost/commands"
	_ "github.com/mattermost/mattermost-server/v6/imports"
	_ "github.com/mattermost/mattermost-server/v6/model/oauthproviders/gitlab"
)

func main() {
	if err := commands.Run(os.Args[1:]); err != nil {
		os.Exit(1)
	}
}
