// SPDX-License-Identifier: MIT

package mailer

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"

	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// Updater runs one write transaction: *store.Store.
type Updater interface {
	Update(fn func(*store.Tx) error) error
}

// errRenderFirst rolls a pass back: it queued mail that is not rendered yet.
var errRenderFirst = errors.New("mail to render before the transaction")

// maxPasses bounds the passes of Update that render outside the transaction; a state
// that keeps changing between passes (another writer) is then rendered in the last.
const maxPasses = 3

// pass is one run of a transaction callback under Update: the mail it queued, the
// renderings made for it outside the transaction, the Message-IDs handed out.
type pass struct {
	rendered map[[32]byte]render.Rendered // made outside the transaction, by renderKey
	want     map[[32]byte]renderJob       // queued this pass without a rendering
	ids      []string                     // Message-IDs of earlier passes, replayed in order
	next     int
	inline   bool     // the last pass: render in the transaction
	queued   []string // template kinds
}

type renderJob struct {
	kind, locale string
	data         render.Data
}

// passes maps a transaction to its pass while Update's callback runs. The map is the
// Mailer's own (no package state); a transaction is one goroutine's.
type passes struct{ m sync.Map }

func (ps *passes) of(q Queue) *pass {
	if v, ok := ps.m.Load(q); ok {
		return v.(*pass)
	}
	return nil
}

// Update runs fn in a write transaction of st with the mail it queues rendered before
// the transaction, not in it (issue 13, 4: a slow rendering held every other commit).
// The first pass runs fn, notes every mail it queues and rolls back; the mails are
// rendered outside any transaction; the second pass runs fn again and queues the
// renderings made (keyed by kind, locale and data, so a mail whose data changed in
// between is rendered again). fn must therefore be a pure function of the
// transaction's state (what it does outside the transaction must be safe to repeat);
// Message-IDs from NewMessageID are the same in every pass. A template error is
// returned as it would be from Queue, with nothing committed.
func (m *Mailer) Update(st Updater, fn func(*store.Tx) error) error {
	p := &pass{rendered: map[[32]byte]render.Rendered{}}
	for n := 1; ; n++ {
		p.want, p.next, p.queued, p.inline = map[[32]byte]renderJob{}, 0, nil, n > maxPasses
		// Each pass carries the profiler label pass=n: a first pass is thrown away, and
		// what it costs shows in any CPU profile (go tool pprof -tagfocus pass:1). In
		// a 2,000-mail backlog, 1.12 s of the committer's CPU was the first passes, as
		// much as the second ones with their commits (issue 18).
		var err error
		pprof.Do(context.Background(), pprof.Labels("pass", strconv.Itoa(n)), func(context.Context) {
			err = st.Update(func(tx *store.Tx) error {
				m.passes.m.Store(tx, p)
				defer m.passes.m.Delete(tx)
				if err := fn(tx); err != nil {
					return err
				}
				if len(p.want) > 0 {
					return errRenderFirst
				}
				return nil
			})
		})
		if !errors.Is(err, errRenderFirst) {
			if err == nil {
				for _, kind := range p.queued {
					m.o.Metrics.ReplyQueued(kind)
				}
			}
			return err
		}
		if err := m.renderAll(p); err != nil {
			return err
		}
	}
}

// renderAll renders what a pass wants on every core: Update's caller is often
// intake's single committer, whose time bounds the intake rate, and a group of
// mails wants dozens of renderings.
//
// A rendering that panics panics Update's caller, once every rendering is done, as
// it did when the caller rendered itself: the callers recover (intake sets a mail
// that panics aside, the scheduler logs the job), and a panic on a goroutine of its
// own would end the daemon.
func (m *Mailer) renderAll(p *pass) error {
	jobs := make(chan [32]byte)
	results := make(chan rendering)
	workers := min(runtime.GOMAXPROCS(0), len(p.want))
	for range workers {
		go func() {
			for k := range jobs {
				results <- m.renderOne(k, p.want[k])
			}
		}()
	}
	go func() {
		defer close(jobs)
		for k := range p.want {
			jobs <- k
		}
	}()
	var errs []error
	var panicked *renderPanic
	for range len(p.want) {
		d := <-results
		switch {
		case d.panicked != nil:
			if panicked == nil {
				panicked = d.panicked
			}
		case d.err != nil:
			errs = append(errs, d.err)
		default:
			p.rendered[d.key] = d.r
		}
	}
	if panicked != nil {
		panic(*panicked)
	}
	return errors.Join(errs...)
}

// rendering is one of renderAll's results.
type rendering struct {
	key      [32]byte
	r        render.Rendered
	err      error
	panicked *renderPanic
}

// renderPanic is a rendering's panic, raised again on Update's caller with the
// stack of the goroutine where it happened (the caller logs fmt.Sprint of it).
type renderPanic struct {
	kind  string
	value any
	stack []byte
}

func (p renderPanic) String() string {
	return fmt.Sprintf("render %s: %v\n%s", p.kind, p.value, p.stack)
}

func (m *Mailer) renderOne(k [32]byte, j renderJob) (d rendering) {
	d.key = k
	defer func() {
		if v := recover(); v != nil {
			d.panicked = &renderPanic{kind: j.kind, value: v, stack: debug.Stack()}
		}
	}()
	d.r, d.err = m.o.Templates.Render(j.kind, j.locale, j.data)
	if d.err != nil {
		d.err = fmt.Errorf("render %s: %w", j.kind, d.err)
	}
	return d
}

// renderKey identifies a rendering by what it was made from.
func renderKey(kind, locale string, d render.Data) ([32]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return [32]byte{}, fmt.Errorf("encode %s data: %w", kind, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", kind, locale)
	h.Write(b)
	var k [32]byte
	h.Sum(k[:0])
	return k, nil
}

// render gives the rendering of a mail queued on q: the one made before the
// transaction when q runs under Update, else one made now. Under Update a mail not
// rendered yet gets an empty placeholder, queued like any mail so that the pass runs
// its normal course; the pass is then rolled back.
func (m *Mailer) render(q Queue, kind, locale string, d render.Data) (render.Rendered, error) {
	p := m.passes.of(q)
	if p == nil || p.inline {
		return m.o.Templates.Render(kind, locale, d)
	}
	k, err := renderKey(kind, locale, d)
	if err != nil {
		return render.Rendered{}, err
	}
	if r, ok := p.rendered[k]; ok {
		return r, nil
	}
	p.want[k] = renderJob{kind: kind, locale: locale, data: d}
	return render.Rendered{}, nil
}

// Final reports whether a transaction on q will commit as it stands: every mail
// queued on it so far has its rendering (always, outside Update). The caller's
// counters and log lines belong to the final pass only.
func (m *Mailer) Final(q Queue) bool {
	p := m.passes.of(q)
	return p == nil || p.inline || len(p.want) == 0
}

// NewMessageID is a fresh Message-ID in the desk's form (<base>.<random>@<domain>) for a
// mail the caller must name before queueing it on q (a staff token is bound to it).
// Under Update every pass gets the same IDs in the same order, so that what they are
// bound into renders the same.
func (m *Mailer) NewMessageID(q Queue, base string) string {
	p := m.passes.of(q)
	if p == nil {
		return m.newMessageID(base)
	}
	if p.next < len(p.ids) {
		id := p.ids[p.next]
		p.next++
		return id
	}
	id := m.newMessageID(base)
	p.ids = append(p.ids, id)
	p.next++
	return id
}
