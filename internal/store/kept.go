// SPDX-License-Identifier: MIT

package store

// This file keeps the last reply template set that loaded, so that a start whose
// template directory is broken serves the set the desk last answered with rather
// than the embedded one, or nothing.

import "bytes"

var keyTemplates = []byte("templates_last_good")

// KeepTemplates stores the packed files of a template set that loaded (render.Pack),
// replacing the one kept before. Unchanged bytes are not written again.
func (t *Tx) KeepTemplates(packed []byte) error {
	meta := t.tx.Bucket(bMeta)
	if bytes.Equal(meta.Get(keyTemplates), packed) {
		return nil
	}
	return meta.Put(keyTemplates, packed)
}

// KeptTemplates returns the set KeepTemplates stored last (a copy), or nil.
func (t *Tx) KeptTemplates() []byte {
	return bytes.Clone(t.tx.Bucket(bMeta).Get(keyTemplates))
}
