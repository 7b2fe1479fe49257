package config

// This file checks the store and templates sections: the files the daemon keeps and
// the texts it reads. Only the values are checked, not the disk: `config check` may
// run on a machine other than the server.

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"time"
)

func (c *Config) checkStore(k *checker) {
	if c.Store.MasterKey != "" {
		if _, err := DecodeKey(c.Store.MasterKey); err != nil {
			k.add("store.master_key", "%v (or set COMPLAINTD_MASTER_KEY, or store.master_key_file; leave all empty for a generated key file)", err)
		}
	}
	positive(k, "store.lock_timeout", c.Store.LockTimeout)
	// The vault is archived whole by `complaintd backup`: holding the store's directory
	// it would carry the master key file, the live store and the outbox journal into
	// every archive (found in review).
	if a, dir := c.Store.AttachmentsDir, filepath.Dir(c.Store.Path); a != "" && c.Store.Path != "" && (a == dir || strings.HasPrefix(dir, a+string(filepath.Separator))) {
		k.add("store.attachments_dir", "must not be the store's directory or hold it (%s): backups would carry the master key and the live store", dir)
	}
}

func (c *Config) checkTemplates(k *checker) {
	k.oneOf("templates.locale", c.Templates.Locale, "zh-CN", "en")
	// Each check walks the template directory: below a second it would do so for
	// nothing, hundreds of times a second for a typo such as 1ms (found in review).
	atLeast(k, "templates.reload_interval", c.Templates.ReloadInterval, time.Second)
}

// DecodeKey accepts a 32-byte key as 64 hex digits or base64.
func DecodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("must be 32 bytes as 64 hex digits or base64")
}
