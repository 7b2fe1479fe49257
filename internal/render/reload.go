// SPDX-License-Identifier: MIT

package render

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Reloader serves the current template Set and swaps in a new one when the
// template directory changes and the new set validates. A broken set is
// refused whole: the last good set keeps serving and the error is recorded
// for /healthz and reported once through OnError.
type Reloader struct {
	// OnError, when set, is called once per distinct broken set (the lead
	// wires it to mail admins); not again until the set changes or is fixed.
	// It is called from the goroutine that called Reload or Watch and must
	// not block for long. Set it before calling Reload or Watch.
	OnError func(err error)
	// OnLoad, when set, is called with the files of each set loaded from the
	// directory by Reload or Watch, packed (Pack): the caller keeps the last good
	// set for a start whose directory is broken (StartReloader). Set it before
	// calling Reload or Watch.
	OnLoad func(packed []byte)

	dir           string // "" when serving the embedded defaults
	fsys          fs.FS
	defaultLocale string
	opts          []Option
	logger        *slog.Logger

	current atomic.Pointer[Set]
	packed  atomic.Pointer[[]byte] // the files of the set in service, packed; nil for the embedded defaults

	mu        sync.Mutex // guards the fields below and serialises Reload
	loadedAt  time.Time
	lastErr   string
	lastErrAt time.Time
	reported  string // the error OnError was last called with
	tried     string // snapshot of the files the last load attempt read
}

// NewReloader loads the templates from dir, or from embedded when dir is
// empty. Start-up fails when that set is broken: a daemon must not start
// with templates nobody has checked (see StartReloader for the fallback).
// A nil logger discards.
func NewReloader(dir string, embedded fs.FS, defaultLocale string, logger *slog.Logger, opts ...Option) (*Reloader, error) {
	r := newReloader(dir, embedded, defaultLocale, logger, opts)
	r.tried = r.snapshot()
	s, packed, err := r.load()
	if err != nil {
		return nil, fmt.Errorf("load templates from %s: %w", r.source(), err)
	}
	r.serve(s, packed)
	return r, nil
}

// StartReloader is NewReloader for a daemon's start, which a broken template
// directory must not stop: it then serves the set kept (packed, from OnLoad or
// Packed of an earlier run) when that loads, else the embedded defaults, and
// records the directory's problems for Status as a refused reload does.
// OnError is not called: the caller reads Status and raises its alert. It
// fails only when no set at all loads.
func StartReloader(dir string, embedded fs.FS, defaultLocale string, logger *slog.Logger, kept []byte, opts ...Option) (*Reloader, error) {
	r := newReloader(dir, embedded, defaultLocale, logger, opts)
	r.tried = r.snapshot()
	s, packed, err := r.load()
	if err == nil {
		r.serve(s, packed)
		return r, nil
	}
	served := "the embedded defaults"
	var fallback *Set
	if kept != nil {
		if fsys, uerr := Unpack(kept); uerr == nil {
			if ks, kerr := Load(fsys, defaultLocale, opts...); kerr == nil {
				fallback, served = ks, "the last good set kept in the store"
			} else {
				r.logger.Warn("the kept template set no longer loads", "err", kerr)
			}
		}
	}
	if fallback == nil {
		es, eerr := Load(embedded, defaultLocale, opts...)
		if eerr != nil {
			return nil, fmt.Errorf("load templates from %s: %w (and the embedded defaults: %v)", r.source(), err, eerr)
		}
		fallback, kept = es, nil
	}
	r.serve(fallback, kept)
	msg := err.Error()
	r.lastErr, r.lastErrAt, r.reported = "serving "+served+": "+msg, time.Now(), msg
	r.logger.Error("templates refused at start, serving a fallback", "dir", r.source(), "serving", served, "err", msg)
	return r, nil
}

func newReloader(dir string, embedded fs.FS, defaultLocale string, logger *slog.Logger, opts []Option) *Reloader {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{dir: dir, fsys: embedded, defaultLocale: defaultLocale, opts: opts, logger: logger}
	if dir != "" {
		r.fsys = os.DirFS(dir)
	}
	return r
}

// load reads the set: from a directory, its files are packed first and the set
// loaded from the pack, so the pack is exactly what loaded.
func (r *Reloader) load() (*Set, []byte, error) {
	if r.dir == "" {
		s, err := Load(r.fsys, r.defaultLocale, r.opts...)
		return s, nil, err
	}
	packed, err := Pack(r.fsys)
	if err != nil {
		return nil, nil, err
	}
	fsys, err := Unpack(packed)
	if err != nil {
		return nil, nil, err
	}
	s, err := Load(fsys, r.defaultLocale, r.opts...)
	return s, packed, err
}

func (r *Reloader) serve(s *Set, packed []byte) {
	r.current.Store(s)
	if packed == nil {
		r.packed.Store(nil)
	} else {
		r.packed.Store(&packed)
	}
	r.loadedAt = time.Now()
}

// Packed returns the files of the set in service, packed (Pack), or nil when it
// is the embedded defaults.
func (r *Reloader) Packed() []byte {
	if p := r.packed.Load(); p != nil {
		return *p
	}
	return nil
}

// Pack writes every file of fsys into one zip archive: a template set as a value.
func Pack(fsys fs.FS) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("pack templates: %w", err)
	}
	return buf.Bytes(), nil
}

// Unpack is the file system of a Pack.
func Unpack(packed []byte) (fs.FS, error) {
	zr, err := zip.NewReader(bytes.NewReader(packed), int64(len(packed)))
	if err != nil {
		return nil, fmt.Errorf("unpack templates: %w", err)
	}
	return zr, nil
}

func (r *Reloader) source() string {
	if r.dir == "" {
		return "embedded defaults"
	}
	return r.dir
}

// Current returns the set in service; never nil after NewReloader succeeded.
func (r *Reloader) Current() *Set { return r.current.Load() }

// Render renders with the set in service (see [Set.Render]).
func (r *Reloader) Render(kind, locale string, d Data) (Rendered, error) {
	return r.Current().Render(kind, locale, d)
}

// Reload loads and validates the directory again. On success the new set
// replaces the current one; on error the current set stays, the error is
// recorded and returned, and OnError is called if this error is new.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Taken before loading: a change made during the load is seen as new.
	r.tried = r.snapshot()
	s, packed, err := r.load()
	if err != nil {
		msg := err.Error()
		r.lastErr, r.lastErrAt = msg, time.Now()
		// Problem lines name files and lines, never mail content.
		r.logger.Error("templates refused, keeping the last good set", "dir", r.source(), "err", msg)
		if msg != r.reported {
			r.reported = msg
			if r.OnError != nil {
				r.OnError(err)
			}
		}
		return fmt.Errorf("reload templates from %s: %w", r.source(), err)
	}
	r.serve(s, packed)
	r.lastErr, r.reported = "", ""
	r.logger.Info("templates loaded", "dir", r.source())
	if packed != nil && r.OnLoad != nil {
		r.OnLoad(packed)
	}
	return nil
}

// Status reports for /healthz: ok is false while the directory holds a
// broken set (lastErr says why); loadedAt is when the set in service was loaded.
func (r *Reloader) Status() (ok bool, lastErr string, loadedAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr == "", r.lastErr, r.loadedAt
}

// LastErrorAt returns when the last refused load happened (zero if none since the last good one).
func (r *Reloader) LastErrorAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr == "" {
		return time.Time{}
	}
	return r.lastErrAt
}

// Watch polls the template directory every interval and reloads when a file
// was added, removed or changed (size or modification time). It returns when
// ctx is done; a change is loaded once the files have stayed the same for
// one interval. It does nothing for the embedded defaults. Polling needs no
// extra dependency and works on every file system, including network mounts
// where change notifications are unreliable.
func (r *Reloader) Watch(ctx context.Context, interval time.Duration) {
	if r.dir == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	seen := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := r.snapshot()
		if now != seen {
			// Wait one more interval for the change to settle, so a save in
			// progress is not reported to admins as a broken set.
			seen = now
			continue
		}
		r.mu.Lock()
		changed := now != r.tried
		r.mu.Unlock()
		if changed {
			_ = r.Reload() // recorded and logged by Reload
		}
	}
}

// snapshot describes every file under the directory (nothing for the
// embedded defaults, which never change) by name, size and
// modification time; two equal snapshots mean nothing changed.
func (r *Reloader) snapshot() string {
	if r.dir == "" {
		return ""
	}
	var lines []string
	_ = fs.WalkDir(r.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			lines = append(lines, p+" error "+err.Error())
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			lines = append(lines, p+" error")
			return nil
		}
		lines = append(lines, fmt.Sprintf("%s %d %d", p, info.Size(), info.ModTime().UnixNano()))
		return nil
	})
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
