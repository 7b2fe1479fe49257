package config

// This file checks the http section: where health and metrics listen.

import (
	"net"
	"strconv"
)

func (c *Config) checkHTTP(k *checker) {
	if c.HTTP.Listen == "" {
		return // no HTTP server
	}
	_, port, err := net.SplitHostPort(c.HTTP.Listen)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		k.add("http.listen", "must be host:port with a port 1-65535, like 127.0.0.1:8025, got %q", c.HTTP.Listen)
	}
}
