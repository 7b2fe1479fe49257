// Command complaintd runs a web portal's complaint and takedown desk over e-mail.
// See README.md and `complaintd help`.
package main

import (
	"context"
	"os"

	"github.com/complaintd/complaintd/internal/app"
)

func main() {
	os.Exit(app.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
