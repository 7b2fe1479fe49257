package config

// This file checks the smtp section: the relay replies go out through, and how hard
// and how often it is tried.

func (c *Config) checkSMTP(k *checker) {
	s := &c.SMTP
	k.host("smtp.host", s.Host, "the SMTP relay's host name")
	between(k, "smtp.port", s.Port, 1, 65535)
	k.oneOf("smtp.tls", s.TLS, "none", "starttls", "tls")
	k.tlsVerify("smtp", s.TLS, s.CAFile, s.ServerName, s.TLSMinVersion)
	if s.From == "" {
		k.add("smtp.from", "required (the desk's own address, like tousu@example.cn)")
	} else {
		k.address("smtp.from", s.From)
	}
	if (s.Username == "") != (s.Password == "") {
		k.add("smtp.password", "username and password go together (password may come from COMPLAINTD_SMTP_PASSWORD)")
	}
	positive(k, "smtp.timeout", s.Timeout)
	atLeast(k, "smtp.max_attempts", s.MaxAttempts, 1)
	positive(k, "smtp.retry_min", s.RetryMin)
	positive(k, "smtp.retry_max", s.RetryMax)
	if s.RetryMin > 0 && s.RetryMax > 0 && s.RetryMax < s.RetryMin {
		// The delay doubles from retry_min up to retry_max: a smaller cap is a typo.
		k.add("smtp.retry_max", "must be at least smtp.retry_min (%v), got %v", s.RetryMin, s.RetryMax)
	}
	// More sessions than a relay's per-client connection limit (Postfix allows 50,
	// providers often 10 or fewer) only earns refusals.
	between(k, "smtp.sessions", s.Sessions, 1, 32)
	positive(k, "smtp.idle_timeout", s.IdleTimeout)
	atLeast(k, "smtp.auto_reply_limit", s.AutoReplyLimit, 1)
	positive(k, "smtp.auto_reply_window", s.AutoReplyWindow)
	atLeast(k, "smtp.auto_reply_domain_limit", s.AutoReplyDomainLimit, 1)
	atLeast(k, "smtp.auto_reply_global_limit", s.AutoReplyGlobalLimit, 1)
}
