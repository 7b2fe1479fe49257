package config

// This file runs the checks of the loaded values and holds the helpers they share, so
// that every section words the same mistake the same way ("must be at least 1, got
// -3"). The checks run after the defaults, on the values the daemon will use; each
// section has its own validate_*.go.

import (
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"
)

// Validate returns every problem of c as Problems, or nil. Load and Parse call it; it
// is exported for configurations built in code.
func (c *Config) Validate() error {
	k := &checker{}
	c.check(k)
	return k.ps.err()
}

// check runs every section's checks, in the order of the sections in the file.
func (c *Config) check(k *checker) {
	c.checkIMAP(k)
	c.checkSMTP(k)
	c.checkStore(k)
	c.checkStaff(k)
	c.checkTemplates(k)
	c.checkPolicy(k)
	c.checkHTTP(k)
	c.checkRouting(k)
}

// checker collects the problems of one configuration.
type checker struct {
	// src is what the file wrote; nil for a configuration built in code, which is
	// then checked as if every value had been written.
	src *source
	ps  Problems
}

func (k *checker) add(path, format string, a ...any) {
	k.ps = append(k.ps, Problem{Path: path, Msg: fmt.Sprintf(format, a...)})
}

// written reports whether the file wrote path.
func (k *checker) written(path string) bool {
	if k.src == nil {
		return true
	}
	_, ok := k.src.lines[path]
	return ok
}

// wroteZero reports whether the file set path to 0, which the defaults replaced.
func (k *checker) wroteZero(path string) bool {
	return k.src != nil && k.src.zero[path]
}

// atLeast reports v below lo. A 0 the file wrote is checked as 0 (the default took
// its place, so v is the default): writing 0 where 0 means nothing is a mistake,
// and leaving the key out is the way to the default.
func atLeast[T ~int | ~int64](k *checker, path string, v, lo T) {
	if k.wroteZero(path) && lo > 0 {
		k.add(path, "must be at least %v, got 0 (leave the key out for the default, %v)", lo, v)
		return
	}
	if v < lo {
		k.add(path, "must be at least %v, got %v", lo, v)
	}
}

// between reports v outside lo..hi; a written 0 is checked as in atLeast.
func between[T ~int | ~int64](k *checker, path string, v, lo, hi T) {
	if k.wroteZero(path) && lo > 0 {
		k.add(path, "must be %v-%v, got 0 (leave the key out for the default, %v)", lo, hi, v)
		return
	}
	if v < lo || v > hi {
		k.add(path, "must be %v-%v, got %v", lo, hi, v)
	}
}

// positive reports a duration that is not more than zero; a written 0 is checked as
// in atLeast.
func positive(k *checker, path string, d time.Duration) {
	if k.wroteZero(path) {
		k.add(path, "must be more than 0s, got 0s (leave the key out for the default, %v)", d)
		return
	}
	if d <= 0 {
		k.add(path, "must be more than 0s, got %v", d)
	}
}

// notNegative reports a negative duration where 0 means "not set".
func notNegative(k *checker, path string, d time.Duration) {
	if d < 0 {
		k.add(path, "must not be negative, got %v (0s means not set)", d)
	}
}

// oneOf reports v not among allowed.
func (k *checker) oneOf(path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	k.add(path, "must be %s, got %q", orList(allowed), v)
}

// orList is "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// required reports an empty value; hint says where it may come from instead.
func (k *checker) required(path, v, hint string) {
	if strings.TrimSpace(v) == "" {
		if hint != "" {
			k.add(path, "required (%s)", hint)
		} else {
			k.add(path, "required")
		}
	}
}

// address reports v that is not one RFC 5322 address ("Name <a@b>" or "a@b").
func (k *checker) address(path, v string) {
	if _, err := mail.ParseAddress(v); err != nil {
		k.add(path, "must be an e-mail address like desk@example.cn, got %q", v)
	}
}

// addresses checks each element of an address list the file wrote. An element the
// file did not write was copied by a default from another list (staff.notify from
// staff.addresses), where it is reported already.
func (k *checker) addresses(path string, list []string) {
	for i, a := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if k.written(p) {
			k.address(p, a)
		}
	}
}

// host reports a mail server name written as a URL or with its port: the port has a
// key of its own, and a scheme means the admin copied a link.
func (k *checker) host(path, v, what string) {
	switch {
	case strings.TrimSpace(v) == "":
		k.add(path, "required (%s)", what)
	case strings.Contains(v, "://") || strings.ContainsAny(v, "/ "):
		k.add(path, "must be a host name like mail.example.cn (no scheme or path), got %q", v)
	default:
		if _, port, err := net.SplitHostPort(v); err == nil {
			k.add(path, "must be a host name without a port (the port goes in its own key), got %q (port %s)", v, port)
		}
	}
}
