package config

// This file checks the imap section: the service mailbox, how it is read and what one
// message may cost.

import (
	"strings"
	"time"
)

func (c *Config) checkIMAP(k *checker) {
	i := &c.IMAP
	k.host("imap.host", i.Host, "the IMAP server's host name")
	between(k, "imap.port", i.Port, 1, 65535)
	k.oneOf("imap.tls", i.TLS, "none", "starttls", "tls")
	k.tlsVerify("imap", i.TLS, i.CAFile, i.ServerName, i.TLSMinVersion)
	k.required("imap.username", i.Username, "")
	k.required("imap.password", i.Password, "or set COMPLAINTD_IMAP_PASSWORD")
	// Below a second the desk would hammer the server for nothing: mail is not that urgent.
	atLeast(k, "imap.poll_interval", i.PollInterval, time.Second)
	k.oneOf("imap.processed", i.Processed, "flag", "move", "none")
	k.oneOf("imap.erased_mail", i.ErasedMail, "delete", "keep")
	// A mail moved to the mailbox it came from comes back under a new UID and is
	// read again, for ever. INBOX is one mailbox however it is written (RFC 9051
	// section 5.1), so "inbox" is INBOX too.
	for _, f := range []struct{ key, name string }{{"imap.processed_folder", i.ProcessedFolder}, {"imap.quarantine_folder", i.QuarantineFolder}} {
		if f.name == i.Mailbox || strings.EqualFold(f.name, "INBOX") && strings.EqualFold(i.Mailbox, "INBOX") {
			k.add(f.key, "must not be the mailbox read (imap.mailbox: %s): its mail would be read again and again", i.Mailbox)
		}
	}
	if i.Start != "" {
		k.oneOf("imap.start", i.Start, "all", "new")
	}
	atLeast(k, "imap.max_attempts", i.MaxAttempts, 1)
	positive(k, "imap.command_timeout", i.CommandTimeout)
	positive(k, "imap.fetch_timeout", i.FetchTimeout)
	l := &i.Limits
	atLeast(k, "imap.limits.max_message_bytes", l.MaxMessageBytes, 1)
	atLeast(k, "imap.limits.max_header_bytes", l.MaxHeaderBytes, 1)
	atLeast(k, "imap.limits.max_parts", l.MaxParts, 1)
	atLeast(k, "imap.limits.max_depth", l.MaxDepth, 1)
	atLeast(k, "imap.limits.max_attachment_bytes", l.MaxAttachmentBytes, 1)
	// Below 100 ms a loaded machine would cut off ordinary mail.
	atLeast(k, "imap.limits.message_budget", l.MessageBudget, 100*time.Millisecond)
	atLeast(k, "imap.limits.max_inflate_bytes", l.MaxInflateBytes, 1)
}
