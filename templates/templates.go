// SPDX-License-Identifier: MIT

// Package templates holds the default reply templates, embedded in the
// binary. They are used when no template directory is configured, and are
// the starting point admins copy and edit (see README.md). The files are
// validated by internal/render; this package only embeds them.
package templates

import (
	"embed"
	"io/fs"
)

// files holds <locale>/*.tmpl. The explicit pattern also embeds the
// _partials.tmpl files, which a directory pattern would skip because of
// their leading underscore.
//
//go:embed */*.tmpl README.md
var files embed.FS

// FS returns the default templates, laid out as <locale>/<kind>.tmpl, the
// layout render.Load expects.
func FS() fs.FS { return files }
