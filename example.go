// Package complaintd carries the files of the repository's root that the binary
// ships: the documented example configuration, which `complaintd init` starts from.
package complaintd

import _ "embed"

// ExampleConfig is config.example.yaml: every key with its default and its comment.
//
//go:embed config.example.yaml
var ExampleConfig []byte
