package app

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

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
		r, err := set.Render(name, *locale, render.SampleDataIn(name, *locale))
		if err != nil {
			return err
		}
		m := outbox.Mail{
			MessageID: "preview.ts-2026-000123@desk.example.cn", From: outbox.Address{Name: "凤凰网投诉受理中心", Address: "tousu@desk.example.cn"},
			To: []outbox.Address{{Name: "张三", Address: "zhangsan@example.cn"}}, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
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
