package imapsource

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// ConfigFailure says why a session failed for a reason that no reconnect cures: the
// server refused the credentials, or its certificate is not trusted. Retrying those at
// the reconnect pace only locks the account out (servers count failed logins), so the
// pipeline backs off hard (PipelineOptions.AuthBackoff) and says so at ERROR. It
// returns "" for every other error.
func ConfigFailure(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, ErrAuthFailed) {
		return "login refused"
	}
	if CertificateFailure(err) {
		return "certificate not trusted"
	}
	return ""
}

// CertificateFailure reports whether err is a TLS certificate the client refused:
// unknown authority, a name that does not match, an expired or otherwise invalid
// certificate.
func CertificateFailure(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		inv x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &inv) {
		return true
	}
	// Some libraries flatten the TLS error into text; its wording is Go's own.
	msg := err.Error()
	return strings.Contains(msg, "tls: failed to verify certificate") || strings.Contains(msg, "x509: ")
}
