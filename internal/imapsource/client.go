package imapsource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// logoutTimeout bounds the polite LOGOUT in Close.
const logoutTimeout = 5 * time.Second

// Client is one authenticated IMAP session. Create it with Dial; it is dead
// after a connection-level error (see IsConnError) and must then be closed
// and replaced.
type Client struct {
	opts Options
	log  *slog.Logger
	raw  net.Conn // the TCP connection; closing it is how the watchdog kills
	ic   *imapclient.Client

	// changed receives a token when the server reports EXISTS outside a
	// SELECT (new mail); see WaitForChange.
	changed chan struct{}

	// op serialises the public methods.
	op sync.Mutex

	caps imap.CapSet // set by Dial, then read-only

	// Protected by op.
	selected  string
	permFlags []imap.Flag
	created   map[string]bool

	deadMu   sync.Mutex
	deadErr  error // why the connection is unusable; wraps ErrConnLost
	killOnce sync.Once
}

// Dial connects to the server, protects the connection as o.TLS says, logs
// in, and sends ID when the server offers it. ctx bounds the whole dial; each
// step is also bounded by o.CommandTimeout.
func Dial(ctx context.Context, o Options) (*Client, error) {
	o, err := o.normalise()
	if err != nil {
		return nil, err
	}
	id, err := idData(o.ClientID)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))

	dctx, cancel := context.WithTimeout(ctx, o.CommandTimeout)
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w: %w", addr, ErrConnLost, err)
	}

	c := &Client{
		opts:    o,
		log:     o.Logger.With("host", o.Host),
		raw:     raw,
		changed: make(chan struct{}, 1),
		created: make(map[string]bool),
	}
	if err := c.handshake(ctx, id); err != nil {
		c.kill(fmt.Errorf("dial failed: %w", ErrConnLost))
		if c.ic != nil {
			_ = c.ic.Close()
		}
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if o.TLS == TLSNone {
		c.log.Info("imap connection is not encrypted")
	}
	c.log.Debug("imap connected", "tls", string(o.TLS), "caps", strings.Join(c.capList(), " "))
	return c, nil
}

func (o Options) normalise() (Options, error) {
	if o.Host == "" {
		return o, errors.New("imap options: empty host")
	}
	if o.Port <= 0 || o.Port > 65535 {
		return o, fmt.Errorf("imap options: port %d out of range", o.Port)
	}
	switch o.TLS {
	case "":
		o.TLS = TLSImplicit
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return o, fmt.Errorf("imap options: tls mode %q (want none, starttls or tls)", o.TLS)
	}
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{}
	} else {
		o.TLSConfig = o.TLSConfig.Clone()
	}
	if o.TLSConfig.ServerName == "" {
		o.TLSConfig.ServerName = o.Host
	}
	if o.TLSConfig.MinVersion == 0 {
		o.TLSConfig.MinVersion = tls.VersionTLS12 // imap.tls_min_version's default, whatever Go's is
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// idData maps Options.ClientID onto go-imap's fixed ID fields.
func idData(m map[string]string) (*imap.IDData, error) {
	if m == nil {
		version := "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		return &imap.IDData{Name: "complaintd", Version: version}, nil
	}
	var d imap.IDData
	fields := map[string]*string{
		"name": &d.Name, "version": &d.Version, "os": &d.OS, "os-version": &d.OSVersion,
		"vendor": &d.Vendor, "support-url": &d.SupportURL, "address": &d.Address, "date": &d.Date,
		"command": &d.Command, "arguments": &d.Arguments, "environment": &d.Environment,
	}
	for k, v := range m {
		p, ok := fields[strings.ToLower(k)]
		if !ok {
			return nil, fmt.Errorf("imap options: client id key %q is not an RFC 2971 field", k)
		}
		*p = v
	}
	return &d, nil
}

// handshake runs TLS, greeting, capability discovery, authentication and ID.
func (c *Client) handshake(ctx context.Context, id *imap.IDData) error {
	icOpts := &imapclient.Options{
		TLSConfig: c.opts.TLSConfig,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages == nil {
					return
				}
				select { // never block go-imap's reader
				case c.changed <- struct{}{}:
				default:
				}
			},
		},
	}
	timeout := c.opts.CommandTimeout

	switch c.opts.TLS {
	case TLSImplicit:
		cfg := c.opts.TLSConfig.Clone()
		if cfg.NextProtos == nil {
			cfg.NextProtos = []string{"imap"}
		}
		tc := tls.Client(c.raw, cfg)
		if err := c.guard(ctx, "tls handshake", timeout, func() error { return tc.Handshake() }); err != nil {
			return err
		}
		c.ic = imapclient.New(tc, icOpts)
	case TLSStartTLS:
		// NewStartTLS refuses to continue unless the server accepts
		// STARTTLS and the handshake succeeds: no silent plaintext login.
		err := c.guard(ctx, "starttls", timeout, func() error {
			ic, err := imapclient.NewStartTLS(c.raw, icOpts)
			c.ic = ic
			return err
		})
		if err != nil {
			return err
		}
	default:
		c.ic = imapclient.New(c.raw, icOpts)
	}

	if err := c.guard(ctx, "greeting", timeout, c.ic.WaitGreeting); err != nil {
		return err
	}
	if err := c.refreshCaps(ctx); err != nil {
		return err
	}

	if c.ic.State() == imap.ConnStateNotAuthenticated {
		if err := c.login(ctx); err != nil {
			return err
		}
		// LOGIN invalidates the capabilities (RFC 9051 section 6.2.3).
		if err := c.refreshCaps(ctx); err != nil {
			return err
		}
	}

	if c.caps.Has(imap.CapID) {
		err := c.guard(ctx, "id", timeout, func() error {
			_, err := c.ic.ID(id).Wait()
			return err
		})
		if IsConnError(err) {
			return err
		}
		if err != nil {
			// Not fatal here: a server that then refuses SELECT says so.
			c.log.Warn("imap id refused", "err", err)
		}
	}
	return nil
}

func (c *Client) login(ctx context.Context) error {
	var err error
	if c.caps.Has(imap.CapLoginDisabled) {
		if !c.caps.Has(imap.AuthCap(sasl.Plain)) {
			return errors.New("server disables LOGIN and offers no AUTH=PLAIN")
		}
		err = c.guard(ctx, "authenticate", c.opts.CommandTimeout, func() error {
			return c.ic.Authenticate(sasl.NewPlainClient("", c.opts.Username, c.opts.Password))
		})
	} else {
		err = c.guard(ctx, "login", c.opts.CommandTimeout, func() error {
			return c.ic.Login(c.opts.Username, c.opts.Password).Wait()
		})
	}
	var ie *imap.Error
	if errors.As(err, &ie) && !IsConnError(err) {
		// The server's text is kept: it says why (e.g. "authorization code required").
		return fmt.Errorf("%w as %q: %w", ErrAuthFailed, c.opts.Username, err)
	}
	return err
}

func (c *Client) refreshCaps(ctx context.Context) error {
	return c.guard(ctx, "capability", c.opts.CommandTimeout, func() error {
		caps := c.ic.Caps()
		if caps == nil {
			return errors.New("no capability list from server")
		}
		c.caps = caps.Copy()
		return nil
	})
}

// guard runs f, which waits for one IMAP exchange, under the watchdog: if
// timeout elapses or ctx ends before f returns, the connection is closed,
// which unblocks f. The result is classified: an *imap.Error (NO/BAD) is
// returned as is; anything else means the connection is unusable and is
// returned wrapping ErrConnLost.
func (c *Client) guard(ctx context.Context, op string, timeout time.Duration, f func() error) error {
	if err := c.dead(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err) // not started: the connection is fine
	}
	timer := time.AfterFunc(timeout, func() {
		c.log.Warn("imap watchdog fired", "op", op, "timeout", timeout)
		c.kill(fmt.Errorf("no answer within %v: %w: %w", timeout, ErrTimeout, ErrConnLost))
	})
	stopCtx := context.AfterFunc(ctx, func() {
		c.kill(fmt.Errorf("abandoned: %w: %w", context.Cause(ctx), ErrConnLost))
	})
	err := f()
	timer.Stop()
	stopCtx()
	if err == nil {
		return nil // a kill racing with success shows up on the next call
	}
	if dead := c.dead(); dead != nil {
		return fmt.Errorf("%s: %w", op, dead)
	}
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type != imap.StatusResponseTypeBye {
		return fmt.Errorf("%s: %w", op, err)
	}
	c.kill(fmt.Errorf("%w: %w", ErrConnLost, err))
	return fmt.Errorf("%s: %w", op, c.dead())
}

// guardEach is guard for a command that yields many items (a batch fetch): each call
// of progress gives the watchdog another timeout, so a long batch that keeps moving is
// not cut, and one that stalls is.
func (c *Client) guardEach(ctx context.Context, op string, timeout time.Duration, f func(progress func()) error) error {
	var timer *time.Timer
	return c.guard(ctx, op, 365*24*time.Hour, func() error {
		timer = time.AfterFunc(timeout, func() {
			c.log.Warn("imap watchdog fired", "op", op, "timeout", timeout)
			c.kill(fmt.Errorf("no progress within %v: %w: %w", timeout, ErrTimeout, ErrConnLost))
		})
		defer timer.Stop()
		return f(func() { timer.Reset(timeout) })
	})
}

// kill marks the client dead with reason (the first reason wins) and closes
// the TCP connection, which fails every pending go-imap command.
func (c *Client) kill(reason error) {
	c.killOnce.Do(func() {
		c.deadMu.Lock()
		c.deadErr = reason
		c.deadMu.Unlock()
		_ = c.raw.Close()
	})
}

// dead returns why the client cannot be used, or nil.
func (c *Client) dead() error {
	c.deadMu.Lock()
	err := c.deadErr
	c.deadMu.Unlock()
	if err != nil {
		return err
	}
	if c.ic != nil {
		select {
		case <-c.ic.Closed():
			c.kill(fmt.Errorf("server closed the connection: %w", ErrConnLost))
			return c.dead()
		default:
		}
	}
	return nil
}

// Err returns nil while the session is usable and otherwise why it is not
// (wrapping ErrConnLost).
func (c *Client) Err() error {
	return c.dead()
}

// Caps returns the server's capabilities after login, upper-cased. Names
// implied by IMAP4rev2 (e.g. MOVE, IDLE, UIDPLUS) are included. The set is
// fixed when Dial returns.
func (c *Client) Caps() map[string]bool {
	m := make(map[string]bool, len(c.caps))
	for _, name := range c.capList() {
		m[name] = true
	}
	return m
}

// Has reports whether the server advertised capability name (or one that
// implies it, as IMAP4rev2 implies MOVE).
func (c *Client) Has(name string) bool {
	return c.caps.Has(imap.Cap(strings.ToUpper(name)))
}

// CanIdle reports whether WaitForChange uses IDLE (RFC 2177) rather than
// polling.
func (c *Client) CanIdle() bool { return c.Has(string(imap.CapIdle)) }

// CanMove reports whether Move can work: MOVE (RFC 6851) or UIDPLUS (RFC 4315).
func (c *Client) CanMove() bool {
	return c.Has(string(imap.CapMove)) || c.Has(string(imap.CapUIDPlus))
}

func (c *Client) capList() []string {
	set := map[string]bool{}
	for name := range c.caps {
		set[strings.ToUpper(string(name))] = true
	}
	for _, implied := range []imap.Cap{imap.CapMove, imap.CapIdle, imap.CapUIDPlus, imap.CapESearch, imap.CapLiteralMinus, imap.CapUnselect} {
		if c.caps.Has(implied) {
			set[string(implied)] = true
		}
	}
	l := make([]string, 0, len(set))
	for name := range set {
		l = append(l, name)
	}
	sort.Strings(l)
	return l
}

// Close logs out (bounded by a short deadline) and closes the connection.
// Called while another method runs, it closes the connection at once, which
// makes that method return ErrConnLost. Close is safe to call more than once.
func (c *Client) Close() error {
	if c.op.TryLock() {
		if c.dead() == nil {
			timeout := min(c.opts.CommandTimeout, logoutTimeout)
			err := c.guard(context.Background(), "logout", timeout, func() error { return c.ic.Logout().Wait() })
			if err != nil {
				c.log.Debug("imap logout", "err", err)
			}
		}
	} else {
		c.kill(fmt.Errorf("client closed: %w", ErrConnLost))
		c.op.Lock()
	}
	defer c.op.Unlock()
	c.kill(fmt.Errorf("client closed: %w", ErrConnLost))
	// Waits for go-imap's reader goroutine, which ends now that the TCP
	// connection is closed.
	if err := c.ic.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.log.Debug("imap close", "err", err)
	}
	return nil
}
