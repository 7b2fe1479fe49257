// Package e2e holds end-to-end tests: the complaintd binary, started as its own process,
// against a private Dovecot and Postfix on 127.0.0.1 (package mailtest). They skip when
// the servers are not installed, and fail instead when CI=true. There is no code here
// besides tests.
package e2e
