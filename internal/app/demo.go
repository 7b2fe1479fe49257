package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
)

const (
	demoDesk = "tousu@desk.example.cn"
	demoUser = "tousu"
	demoPass = "demo-password"
)

// cmdDemo runs the whole flow on an in-process IMAP server and SMTP sink with sample
// mails, and prints what happened. It needs no setup and leaves nothing behind unless
// -keep names a directory.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("keep", "", "keep the data directory here (default: a temporary one, removed at exit)")
	verbose := fs.Bool("v", false, "show the daemon's log")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "complaintd-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	imapSrv, err := mailtest.NewMemIMAP("")
	if err != nil {
		return err
	}
	defer imapSrv.Close()
	if err := imapSrv.AddUser(demoUser, demoPass); err != nil {
		return err
	}
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		return err
	}
	defer sink.Close()

	cfg := demoConfig(dir, imapSrv.Addr(), sink.Addr())
	logW := io.Discard
	if *verbose {
		logW = stderr
	}
	d, err := openDesk(cfg, newLogger(logW, slog.LevelDebug))
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "complaintd demo: an in-process IMAP mailbox and SMTP sink, the real pipeline in between.")
	fmt.Fprintf(stdout, "data directory: %s\n\n", dir)
	now := time.Now()
	first := demoMails(now)
	for _, m := range first {
		if _, err := imapSrv.Append(demoUser, "INBOX", m.raw); err != nil {
			return fmt.Errorf("seed mailbox: %w", err)
		}
		fmt.Fprintf(stdout, "→ delivered: %s\n", m.what)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- d.run(runCtx, nil) }()

	// Three complaints are answered; the bounce is not; the complete one also reaches
	// the staff.
	sentTo := func(addr string) int {
		n := 0
		for _, m := range sink.Messages() {
			if len(m.To) > 0 && m.To[0] == addr {
				n++
			}
		}
		return n
	}
	waitUntil(ctx, func() bool {
		return sentTo("zhangsan@example.cn") == 1 && sentTo("li.si@example.cn") == 1 && sentTo("wangwu@foxmail.com") == 1
	})
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the first replies: %w", ctx.Err())
	}
	// The incomplete complaint's author answers the acknowledgement with the rest.
	var ack *mail.Message
	for _, r := range sink.Messages() {
		if len(r.To) > 0 && r.To[0] == "li.si@example.cn" {
			ack, _ = mail.ReadMessage(strings.NewReader(string(r.Data)))
		}
	}
	if ack == nil {
		return errors.New("no acknowledgement for the incomplete complaint")
	}
	follow := demoFollowUp(now, ack)
	if _, err := imapSrv.Append(demoUser, "INBOX", follow.raw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "→ delivered: %s\n", follow.what)
	waitUntil(ctx, func() bool { return sentTo("li.si@example.cn") == 2 && sentTo("editor@desk.example.cn") == 2 })
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the follow-up reply: %w", ctx.Err())
	}
	// The editor answers the first notification with 受理: the command is
	// authenticated by the token in the notification's Reply-To.
	var note *mail.Message
	for _, r := range sink.Messages() {
		if len(r.To) > 0 && r.To[0] == "editor@desk.example.cn" {
			note, _ = mail.ReadMessage(strings.NewReader(string(r.Data)))
			break
		}
	}
	if note == nil {
		return errors.New("no staff notification")
	}
	cmd := demoStaffReply(now, note)
	if _, err := imapSrv.Append(demoUser, "INBOX", cmd.raw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "→ delivered: %s\n", cmd.what)
	waitUntil(ctx, func() bool { return sentTo("zhangsan@example.cn") == 2 && sentTo("editor@desk.example.cn") == 3 })
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the decision: %w", ctx.Err())
	}
	replies := sink.Messages()
	// Let the store record the last send before reading it.
	waitUntil(ctx, func() bool {
		n := 0
		d.store.View(func(tx *store.Tx) error { n = tx.PendingCount(); return nil })
		return n == 0
	})
	var all []*cases.Case
	var msgs []*store.Message
	d.store.View(func(tx *store.Tx) error {
		tx.EachCase(true, func(c *cases.Case) error { all = append(all, c); return nil })
		return tx.EachMessage(func(m *store.Message) error { msgs = append(msgs, m); return nil })
	})

	fmt.Fprintf(stdout, "\n=== Mail registered (%d) ===\n", len(msgs))
	for _, m := range msgs {
		fmt.Fprintf(stdout, "  %-12s %-16s %s\n    %s\n", m.Role, orDash(m.Case), m.Subject, m.Outcome)
	}
	fmt.Fprintf(stdout, "\n=== Cases (%d) ===\n", len(all))
	printCaseTable(stdout, all)
	for _, c := range all {
		fmt.Fprintln(stdout)
		printCase(stdout, c)
	}
	fmt.Fprintf(stdout, "\n=== Mail sent (%d: replies to complainants, notifications to staff) ===\n", len(replies))
	for _, r := range replies {
		m, err := mail.ReadMessage(strings.NewReader(string(r.Data)))
		if err != nil {
			fmt.Fprintf(stdout, "  (unreadable reply: %v)\n", err)
			continue
		}
		subj, _ := decodeHeader(m.Header.Get("Subject"))
		fmt.Fprintf(stdout, "\nTo: %s\nSubject: %s\nIn-Reply-To: %s\nAuto-Submitted: %s\n", strings.Join(r.To, ", "), subj,
			m.Header.Get("In-Reply-To"), m.Header.Get("Auto-Submitted"))
		if rt, _ := decodeHeader(m.Header.Get("Reply-To")); rt != "" {
			fmt.Fprintf(stdout, "Reply-To: %s   (staff reply here with 受理 / 驳回 理由 / 补充 …)\n", rt)
		}
		if ct := m.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/mixed") {
			fmt.Fprintln(stdout, "(the case documents are attached)")
		}
		fmt.Fprintln(stdout)
		text, err := plainText(r.Data)
		if err != nil {
			text = "(" + err.Error() + ")"
		}
		for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
			fmt.Fprintf(stdout, "  | %s\n", line)
		}
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\ndemo finished: every complaint was registered and answered once, the bounce got no reply, and the editor's 受理 reached the complainant.")
	return nil
}

func waitUntil(ctx context.Context, cond func() bool) {
	for !cond() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func demoConfig(dir, imapAddr, smtpAddr string) *config.Config {
	ih, ip, _ := net.SplitHostPort(imapAddr)
	sh, sp, _ := net.SplitHostPort(smtpAddr)
	iport, _ := strconv.Atoi(ip)
	sport, _ := strconv.Atoi(sp)
	cfg := &config.Config{}
	cfg.IMAP = config.IMAP{Host: ih, Port: iport, TLS: "none", Username: demoUser, Password: demoPass, PollInterval: time.Second}
	cfg.SMTP = config.SMTP{Host: sh, Port: sport, TLS: "none", From: demoDesk, FromName: "凤凰网投诉受理中心", RetryMin: time.Second}
	cfg.Store = config.Store{Path: dir + "/complaintd.db", AttachmentsDir: dir + "/attachments"}
	cfg.Staff = config.Staff{Addresses: []string{"editor@desk.example.cn"}}
	cfg.HTTP = config.HTTP{ControlSocket: dir + "/complaintd.sock"}
	cfg.ApplyDefaults()
	return cfg
}

type demoMail struct {
	what string
	raw  []byte
}

func demoMails(now time.Time) []demoMail {
	complete := sampleMail{
		from: "张三|zhangsan@example.cn", to: demoDesk, subject: "张三申请删除凤凰资讯稿件",
		messageID: "demo-1@example.cn", body: "您好：\n\n本人申请删除以下新闻稿件，材料见附件。\n\n" + demoForm + "\n\n张三\n发自我的iPhone",
		mailer: "iPhone Mail (22B91)", date: now,
		files: []sampleFile{
			{"删帖申请表（签字）.pdf", "application/pdf", fakeScan("pdf", "form zhangsan")},
			{"身份证复印件.jpg", "image/jpeg", fakeScan("jpg", "id zhangsan")},
			{"事件说明函.pdf", "application/pdf", fakeScan("pdf", "explanation")},
			{"法院判决书.pdf", "application/pdf", fakeScan("pdf", "judgement")},
			{"原发媒体撤稿函.pdf", "application/pdf", fakeScan("pdf", "withdrawal")},
		},
	}
	incomplete := sampleMail{
		from: "李四|li.si@example.cn", to: demoDesk, subject: "李四（北京某某科技有限公司）申请删除凤凰财经稿件",
		messageID: "demo-2@example.cn", date: now,
		body: "单位名称：北京某某科技有限公司\n经办人：李四\n文章标题：某某科技财务造假调查\n文章链接：https://finance.ifeng.com/c/8xyz\n删除原因：报道失实。\n",
		files: []sampleFile{
			{"删帖申请表.pdf", "application/pdf", fakeScan("pdf", "form lisi")},
			{"营业执照.jpg", "image/jpeg", fakeScan("jpg", "licence")},
			{"IMG_2031.jpg", "image/jpeg", fakeScan("jpg", "unknown photo")},
		},
		mailer: "Microsoft Outlook 16.0",
	}
	foxmail := sampleMail{
		from: "王五|wangwu@foxmail.com", to: demoDesk, subject: "王五申请删除凤凰博客稿件",
		messageID: "demo-3@foxmail.com", date: now, gbk: true, mailer: "Foxmail 7.2.25.228[cn]",
		body: "姓名：王五\n文章标题：《我的邻居》\n文章链接：http://blog.ifeng.com/article/123.html\n删除原因：博文泄露本人住址。\n",
		files: []sampleFile{
			{"删帖申请表.jpg", "image/jpeg", fakeScan("jpg", "form wangwu")},
			{"身份证正反面.jpg", "image/jpeg", fakeScan("jpg", "id wangwu")},
		},
	}
	bounce := []byte("From: MAILER-DAEMON@mx.example.net\r\nTo: " + demoDesk + "\r\nSubject: Undelivered Mail Returned to Sender: 张三申请删除凤凰资讯稿件\r\n" +
		"Date: " + now.Format(time.RFC1123Z) + "\r\nMessage-ID: <bounce-1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" +
		"This is the mail system at host mx.example.net. I'm sorry to have to inform you that your message could not be delivered.\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n")
	return []demoMail{
		{"a complete individual complaint (张三, news article, five documents)", complete.bytes()},
		{"an incomplete organisation complaint (李四 for a company, licence and form only, one unnamed photo)", incomplete.bytes()},
		{"a GBK-encoded Foxmail complaint (王五, blog post)", foxmail.bytes()},
		{"a bounce (multipart/report from MAILER-DAEMON) that must get no reply", bounce},
	}
}

// demoFollowUp answers the acknowledgement of the incomplete complaint with the
// documents it asked for, the way a mail client replies.
func demoFollowUp(now time.Time, ack *mail.Message) demoMail {
	subj, _ := decodeHeader(ack.Header.Get("Subject"))
	m := sampleMail{
		from: "李四|li.si@example.cn", to: demoDesk, subject: "回复：" + subj,
		messageID: "demo-4@example.cn", inReplyTo: strings.Trim(ack.Header.Get("Message-ID"), "<>"), date: now.Add(time.Minute),
		body: "您好，补充材料见附件。\n\n李四",
		files: []sampleFile{
			{"经办人身份证.jpg", "image/jpeg", fakeScan("jpg", "agent id")},
			{"在职证明.pdf", "application/pdf", fakeScan("pdf", "employment")},
			{"情况说明.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", fakeScan("pdf", "explanation 2")},
			{"财经频道撤稿函.pdf", "application/pdf", fakeScan("pdf", "withdrawal 2")},
		},
	}
	return demoMail{"李四's reply to the acknowledgement, with the missing documents", m.bytes()}
}

// demoStaffReply is the editor's reply to a notification, the way Foxmail writes it:
// the command on top, the notification quoted below (its own command words must not
// run).
func demoStaffReply(now time.Time, note *mail.Message) demoMail {
	to := note.Header.Get("Reply-To")
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	subj, _ := decodeHeader(note.Header.Get("Subject"))
	m := sampleMail{
		from: "李编辑|editor@desk.example.cn", to: to, subject: "回复：" + subj, messageID: "demo-5@desk.example.cn",
		inReplyTo: strings.Trim(note.Header.Get("Message-ID"), "<>"), date: now.Add(2 * time.Minute), mailer: "Foxmail 7.2.25.228[cn]",
		body: "受理\n\n李编辑\n\n------------------ 原始邮件 ------------------\n发件人: \"凤凰网投诉受理中心\" <" + demoDesk + ">;\n" +
			"主题: " + subj + "\n\n请直接回复本邮件下达指令，例如“受理”或“驳回 理由”。\n",
	}
	return demoMail{"the editor's reply 受理 to the notification of the complete case", m.bytes()}
}
