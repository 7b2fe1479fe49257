package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/templates"
)

func cmdTemplates(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"templates: check or preview"}
	}
	fs := flag.NewFlagSet("templates "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "template directory (default: the embedded defaults)")
	locale := fs.String("locale", "zh-CN", "locale")
	caseID := fs.String("case", "", "preview with this case from the store instead of sample data (preview)")
	cfgPath := fs.String("config", "", "configuration file, to find the store (with -case)")
	switch args[0] {
	case "check":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		set, err := render.Load(templateFS(*dir), "zh-CN")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "templates ok: %d kinds, locales %v\n", len(render.Kinds()), set.Locales())
		return nil
	case "preview":
		rest := args[1:]
		var name string
		if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
			name, rest = rest[0], rest[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if name == "" {
			name = fs.Arg(0)
		}
		if name == "" {
			return usageError{"templates preview NAME"}
		}
		set, err := render.Load(templateFS(*dir), "zh-CN")
		if err != nil {
			return err
		}
		data := render.SampleDataIn(name, *locale)
		to := []outbox.Address{{Name: "张三", Address: "zhangsan@example.cn"}}
		from := outbox.Address{Name: "凤凰网投诉受理中心", Address: "tousu@desk.example.cn"}
		if *caseID != "" {
			c, cfg, err := previewCase(*cfgPath, *caseID)
			if err != nil {
				return err
			}
			// The case replaces the sample case; the kind's own fields (reason, dates)
			// stay sample values, as nobody decided anything yet.
			cat, err := cfg.Catalogue()
			if err != nil {
				return fmt.Errorf("policy.document_kinds: %w", err)
			}
			view := mailer.View(c, render.Desk{Name: cfg.SMTP.FromName, Address: cfg.SMTP.From, Prefix: cfg.Policy.CasePrefix}, cat)
			data.Case, data.Desk = view.Case, view.Desk
			data.SubjectConforms = c.Subject.Conforms
			to = []outbox.Address{{Name: c.Applicant.Name, Address: c.Complainant}}
			if cfg.SMTP.From != "" {
				from = outbox.Address{Name: cfg.SMTP.FromName, Address: cfg.SMTP.From}
			}
		}
		r, err := set.Render(name, *locale, data)
		if err != nil {
			return err
		}
		m := outbox.Mail{
			MessageID: "preview.ts-2026-000123@desk.example.cn", From: from,
			To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
			InReplyTo: "original@example.cn", References: []string{"original@example.cn"}, AutoSubmitted: outbox.AutoReplied,
			Date: time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		}
		var buf bytes.Buffer
		if err := outbox.WriteTo(&buf, m); err != nil {
			return err
		}
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return usageError{fmt.Sprintf("templates: unknown subcommand %q", args[0])}
}

func templateFS(dir string) fs.FS {
	if dir == "" {
		return templates.FS()
	}
	return os.DirFS(dir)
}

// previewCase reads one case for `templates preview -case`, through the daemon or the
// store like `cases show`.
func previewCase(cfgPath, id string) (*cases.Case, *config.Config, error) {
	src, err := newCaseSource(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	c, err := src.show(context.Background(), id)
	if err != nil {
		return nil, nil, fmt.Errorf("case %s: %w", id, err)
	}
	return c, src.cfg, nil
}
