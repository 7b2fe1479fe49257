package config

// This file checks and builds the TLS verification of the mail servers: which roots
// are trusted (imap.ca_file, smtp.ca_file), which name the certificate must carry
// (server_name) and the oldest protocol version accepted (tls_min_version).

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// tlsVersion maps a tls_min_version value. TLS 1.0 and 1.1 are deprecated (RFC 8996)
// and not offered.
func tlsVersion(s string) (uint16, bool) {
	switch s {
	case "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	}
	return 0, false
}

// tlsVerify checks one section's TLS keys; section is "imap" or "smtp".
func (k *checker) tlsVerify(section, mode, caFile, serverName, minVersion string) {
	if _, ok := tlsVersion(minVersion); !ok {
		k.add(section+".tls_min_version", "%q: want \"1.2\" or \"1.3\"", minVersion)
	}
	if serverName != "" && strings.ContainsAny(serverName, " \t\r\n/:") {
		k.add(section+".server_name", "%q: want a host name", serverName)
	}
	if mode == "none" && (caFile != "" || serverName != "") {
		k.add(section+".tls", "none, but %s.ca_file or %s.server_name is set: the connection would not be verified (set tls: starttls or tls)", section, section)
	}
	if caFile != "" {
		if _, err := loadCAFile(caFile); err != nil {
			k.add(section+".ca_file", "%v", err)
		}
	}
}

// loadCAFile reads a PEM bundle of CA certificates.
func loadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// ClientTLS builds the TLS configuration of a connection to a mail server from a
// section's keys: host is the server's host, used as the name to verify when
// serverName is "". It fails only on what Validate refuses.
func ClientTLS(host, caFile, serverName, minVersion string) (*tls.Config, error) {
	v, ok := tlsVersion(minVersion)
	if !ok {
		if minVersion != "" {
			return nil, fmt.Errorf("tls_min_version %q: want \"1.2\" or \"1.3\"", minVersion)
		}
		v = tls.VersionTLS12
	}
	cfg := &tls.Config{ServerName: serverName, MinVersion: v}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if caFile != "" {
		pool, err := loadCAFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		cfg.RootCAs = pool
	}
	if cfg.ServerName == "" {
		return nil, errors.New("no server name to verify")
	}
	return cfg, nil
}

// IMAPTLS is the TLS configuration of the IMAP connection.
func (c *Config) IMAPTLS() (*tls.Config, error) {
	i := &c.IMAP
	return ClientTLS(i.Host, i.CAFile, i.ServerName, i.TLSMinVersion)
}

// SMTPTLS is the TLS configuration of the SMTP connection.
func (c *Config) SMTPTLS() (*tls.Config, error) {
	s := &c.SMTP
	return ClientTLS(s.Host, s.CAFile, s.ServerName, s.TLSMinVersion)
}
