package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
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
	dir := fs.String("dir", "", "template directory (default: the config's templates.dir with -config, else the embedded defaults)")
	locale := fs.String("locale", "", "locale (default: the config's templates.locale with -config, else zh-CN)")
	caseID := fs.String("case", "", "preview with this case from the store instead of sample data (preview)")
	cfgPath := fs.String("config", "", "configuration file: its templates and, with -case, its store")
	raw := fs.Bool("raw", false, "print the whole MIME message as sent (preview; default: the decoded text)")
	// deflt is the set's default locale, the one every kind must exist in: the
	// daemon's, templates.locale. Checked against zh-CN whatever the config said, a
	// set whose en directory lacked a kind passed the check and was refused by a desk
	// running with locale en (found in review).
	deflt := ""
	// settle fills what the flags left open from the config, as the daemon would.
	settle := func() error {
		if *cfgPath == "" {
			*cfgPath = os.Getenv("COMPLAINTD_CONFIG")
		}
		if *cfgPath != "" && (*dir == "" || *locale == "") {
			cfg, err := readPathsConfig(*cfgPath)
			if err != nil {
				return err
			}
			if *dir == "" {
				*dir = cfg.Templates.Dir
			}
			deflt = cfg.Templates.Locale
		}
		if *locale == "" {
			*locale = deflt
		}
		if *locale == "" {
			*locale = "zh-CN"
		}
		if deflt == "" {
			deflt = *locale
		}
		return nil
	}
	switch args[0] {
	case "check":
		if _, err := parseArgs(fs, args[1:], 0); err != nil {
			return err
		}
		if err := settle(); err != nil {
			return err
		}
		set, err := render.Load(templateFS(*dir), deflt)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "templates ok: %d kinds, locales %v\n", len(render.Kinds()), set.Locales())
		return nil
	case "preview":
		name, err := parseWithArg(fs, args[1:])
		if err != nil {
			return err
		}
		if name == "" {
			return usageError{"templates preview NAME"}
		}
		if err := settle(); err != nil {
			return err
		}
		set, err := render.Load(templateFS(*dir), deflt)
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
		if !*raw {
			return printPreview(stdout, m)
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

// printPreview shows a reply as its reader sees it: the headers that matter, decoded,
// and the text part (the HTML part says the same; -raw prints it all as sent).
func printPreview(w io.Writer, m outbox.Mail) error {
	addrs := func(as []outbox.Address) string {
		var out []string
		for _, a := range as {
			if a.Name != "" {
				out = append(out, fmt.Sprintf("%s <%s>", a.Name, a.Address))
			} else {
				out = append(out, a.Address)
			}
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintf(w, "From: %s\nTo: %s\nSubject: %s\n", addrs([]outbox.Address{m.From}), addrs(m.To), m.Subject)
	if m.HTML != "" {
		fmt.Fprintf(w, "(with an HTML part of %d bytes; -raw shows the message as sent)\n", len(m.HTML))
	}
	_, err := fmt.Fprintf(w, "\n%s", m.Text)
	return err
}
