// SPDX-License-Identifier: MIT

package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/stats"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// The CLI at 100,000 cases (issue 18): how long `cases list -json`, `cases list
// -state …`, `cases show`, `cases export -csv` and `stats -json` take to print their
// first byte, and the whole output, through a control socket served by the same
// handlers as the daemon's, over a sealed store:
//
//	go test -run '^$' -bench CLI -benchtime 3x ./internal/app/
//
// COMPLAINTD_BENCH_CASES changes the number of cases (building 100,000 sealed cases
// takes a minute or two; the store is built once per run).
func BenchmarkCLI(b *testing.B) {
	fx := cliFixture(b)
	run := func(b *testing.B, args ...string) {
		var first, total time.Duration
		for i := 0; i < b.N; i++ {
			w := &firstByteWriter{start: time.Now()}
			if err := Main(context.Background(), append(args, "-config", fx.cfgPath), w, io.Discard); err != 0 {
				b.Fatalf("%v: exit %d", args, err)
			}
			total += time.Since(w.start)
			first += w.first
			if w.n == 0 {
				b.Fatalf("%v printed nothing", args)
			}
		}
		b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-byte-ms")
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "total-ms")
	}
	b.Run("list-json", func(b *testing.B) { run(b, "cases", "list", "-json") })
	b.Run("list-table", func(b *testing.B) { run(b, "cases", "list") })
	b.Run("list-state-rare", func(b *testing.B) { run(b, "cases", "list", "-state", "appealed", "-json") })
	b.Run("show", func(b *testing.B) { run(b, "cases", "show", fx.lastID, "-json") })
	b.Run("export-csv", func(b *testing.B) { run(b, "cases", "export", "-csv") })
	b.Run("stats-json", func(b *testing.B) { run(b, "stats", "-json") })
}

type firstByteWriter struct {
	start time.Time
	first time.Duration
	n     int64
}

func (w *firstByteWriter) Write(p []byte) (int, error) {
	if w.n == 0 && len(p) > 0 {
		w.first = time.Since(w.start)
	}
	w.n += int64(len(p))
	return len(p), nil
}

type cliBench struct {
	cfgPath, lastID string
}

var (
	cliOnce sync.Once
	cliFx   cliBench
	cliErr  error
)

// cliFixture builds the sealed store and serves its control socket for the whole run.
func cliFixture(b *testing.B) cliBench {
	cliOnce.Do(func() { cliFx, cliErr = buildCLIFixture() })
	if cliErr != nil {
		b.Fatal(cliErr)
	}
	return cliFx
}

func buildCLIFixture() (cliBench, error) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("COMPLAINTD_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	dir, err := os.MkdirTemp("", "complaintd-clibench")
	if err != nil {
		return cliBench{}, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	cfgPath := filepath.Join(dir, "config.yaml")
	sock := filepath.Join(dir, "complaintd.sock")
	cfg := fmt.Sprintf("store:\n  path: %s\n  attachments_dir: %s\n  master_key: %q\nhttp:\n  control_socket: %s\npolicy:\n  calendar:\n    time_zone: Asia/Shanghai\n",
		filepath.Join(dir, "complaintd.db"), filepath.Join(dir, "attachments"), hex.EncodeToString(key), sock)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return cliBench{}, err
	}
	st, err := store.Open(filepath.Join(dir, "complaintd.db"), time.Second)
	if err != nil {
		return cliBench{}, err
	}
	v, err := vault.Open(filepath.Join(dir, "attachments"), key)
	if err != nil {
		return cliBench{}, err
	}
	st.SetSealer(v)
	if err := st.MarkCurrent(); err != nil {
		return cliBench{}, err
	}
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	states := []cases.State{cases.Incomplete, cases.PendingReview, cases.Accepted, cases.Resolved, cases.Rejected, cases.Closed}
	var last string
	for i := 0; i < n; i += 1000 {
		err := st.Update(func(tx *store.Tx) error {
			for j := i; j < min(i+1000, n); j++ {
				id, err := tx.NextCaseID("TS", 2026)
				if err != nil {
					return err
				}
				at := base.Add(time.Duration(j) * time.Minute)
				due := at.Add(72 * time.Hour)
				st := states[j%len(states)]
				if j%997 == 0 {
					st = cases.Appealed // rare: a filter that selects few cases
				}
				c := &cases.Case{ID: id, State: st, CreatedAt: at, UpdatedAt: at, DueAt: &due, Department: []string{"财经", "社会", "体育"}[j%3],
					Complainant: fmt.Sprintf("user%d@example.cn", j), Locale: "zh-CN",
					Applicant: cases.Party{Name: "王五", IDNo: "310101198001010018", Phone: "13700001111", Type: cases.Individual, IDValid: true},
					Request: cases.Request{Title: "关于某篇报道的删除申请", URL: fmt.Sprintf("https://news.example.cn/a/%d", j), ContentKind: cases.News,
						Reason: "报道内容失实，侵犯名誉权"},
					Documents: []cases.Document{{Kind: "id_card", Filename: "身份证.jpg", Size: 120000}, {Kind: "form", Filename: "申请表.pdf", Size: 80000}}}
				for k, e := range []cases.Event{{At: at, Type: cases.EventOf(cases.Note), Actor: c.Complainant},
					{At: at.Add(time.Second), Type: cases.EventReplySent, Actor: "desk"},
					{At: at.Add(time.Hour), From: cases.Incomplete, To: st, Actor: "staff@example.cn", Note: "受理"}} {
					if k == 2 && st == cases.Incomplete {
						break
					}
					if err := tx.AppendEvent(id, e); err != nil {
						return err
					}
				}
				if err := tx.PutCase(c); err != nil {
					return err
				}
				last = id
			}
			return v.Flush()
		})
		if err != nil {
			return cliBench{}, err
		}
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		return cliBench{}, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cases", func(w http.ResponseWriter, r *http.Request) { streamCases(w, st, filterFrom(r.URL.Query())) })
	mux.HandleFunc("GET /cases/{id}", func(w http.ResponseWriter, r *http.Request) {
		c, err := showCase(st, r.PathValue("id"))
		writeJSON(w, c, err)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		rep, err := stats.FromStore(st, stats.Options{Now: base.Add(time.Duration(n) * time.Minute)})
		writeJSON(w, rep, err)
	})
	go http.Serve(l, mux)
	return cliBench{cfgPath: cfgPath, lastID: last}, nil
}
