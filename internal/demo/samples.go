package demo

import (
	"net/mail"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/demo/samplemail"
)

// sample is one mail the demo delivers, with what the printout calls it.
type sample struct {
	what string
	raw  []byte
}

// firstMails are the mails in the mailbox when the daemon starts.
func firstMails(now time.Time) []sample {
	complete := samplemail.Mail{
		From: "张三|zhangsan@example.cn", To: deskAddr, Subject: "张三申请删除凤凰资讯稿件",
		MessageID: "demo-1@example.cn", Body: "您好：\n\n本人申请删除以下新闻稿件，材料见附件。\n\n" + samplemail.ZhangsanForm + "\n\n张三\n发自我的iPhone",
		Mailer: "iPhone Mail (22B91)", Date: now,
		Files: []samplemail.File{
			{Name: "删帖申请表（签字）.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "form zhangsan")},
			{Name: "身份证复印件.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "id zhangsan")},
			{Name: "事件说明函.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "explanation")},
			{Name: "法院判决书.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "judgement")},
			{Name: "原发媒体撤稿函.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "withdrawal")},
		},
	}
	incomplete := samplemail.Mail{
		From: "李四|li.si@example.cn", To: deskAddr, Subject: "李四（北京某某科技有限公司）申请删除凤凰财经稿件",
		MessageID: "demo-2@example.cn", Date: now, Mailer: "Microsoft Outlook 16.0",
		Body: "单位名称：北京某某科技有限公司\n经办人：李四\n文章标题：某某科技财务造假调查\n文章链接：https://finance.ifeng.com/c/8xyz\n删除原因：报道失实。\n",
		Files: []samplemail.File{
			{Name: "删帖申请表.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "form lisi")},
			{Name: "营业执照.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "licence")},
			{Name: "IMG_2031.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "unknown photo")},
		},
	}
	foxmail := samplemail.Mail{
		From: "王五|wangwu@foxmail.com", To: deskAddr, Subject: "王五申请删除凤凰博客稿件",
		MessageID: "demo-3@foxmail.com", Date: now, GBK: true, Mailer: "Foxmail 7.2.25.228[cn]",
		Body: "姓名：王五\n文章标题：《我的邻居》\n文章链接：http://blog.ifeng.com/article/123.html\n删除原因：博文泄露本人住址。\n",
		Files: []samplemail.File{
			{Name: "删帖申请表.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "form wangwu")},
			{Name: "身份证正反面.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "id wangwu")},
		},
	}
	return []sample{
		{"a complete individual complaint (张三, news article, five documents)", complete.Bytes()},
		{"an incomplete organisation complaint (李四 for a company, licence and form only, one unnamed photo)", incomplete.Bytes()},
		{"a GBK-encoded Foxmail complaint (王五, blog post)", foxmail.Bytes()},
		{"a bounce (multipart/report from MAILER-DAEMON) that must get no reply", bounce(now)},
	}
}

// bounce is a delivery status notification, which the desk must register as
// noise and never answer.
func bounce(now time.Time) []byte {
	return []byte("From: MAILER-DAEMON@mx.example.net\r\nTo: " + deskAddr + "\r\nSubject: Undelivered Mail Returned to Sender: 张三申请删除凤凰资讯稿件\r\n" +
		"Date: " + now.Format(time.RFC1123Z) + "\r\nMessage-ID: <bounce-1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" +
		"This is the mail system at host mx.example.net. I'm sorry to have to inform you that your message could not be delivered.\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n")
}

// followUp answers the acknowledgement of the incomplete complaint with the
// documents it asked for, the way a mail client replies.
func followUp(now time.Time, ack *mail.Message) sample {
	subj, _ := decodeHeader(ack.Header.Get("Subject"))
	ackID := strings.Trim(ack.Header.Get("Message-ID"), "<>")
	m := samplemail.Mail{
		From: "李四|li.si@example.cn", To: deskAddr, Subject: "回复：" + subj,
		MessageID: "demo-4@example.cn", InReplyTo: ackID, References: []string{ackID}, Date: now.Add(time.Minute),
		Body: "您好，补充材料见附件。\n\n李四",
		Files: []samplemail.File{
			{Name: "经办人身份证.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "agent id")},
			{Name: "在职证明.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "employment")},
			{Name: "情况说明.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "explanation 2")},
			{Name: "财经频道撤稿函.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "withdrawal 2")},
		},
	}
	return sample{"李四's reply to the acknowledgement, with the missing documents", m.Bytes()}
}

// staffReply is the editor's reply to a notification, the way Foxmail writes
// it: the command on top, the notification quoted below (its own command
// words must not run).
func staffReply(now time.Time, note *mail.Message) sample {
	to := note.Header.Get("Reply-To")
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	subj, _ := decodeHeader(note.Header.Get("Subject"))
	noteID := strings.Trim(note.Header.Get("Message-ID"), "<>")
	m := samplemail.Mail{
		From: "李编辑|" + editor, To: to, Subject: "回复：" + subj, MessageID: "demo-5@desk.example.cn",
		InReplyTo: noteID, References: []string{noteID}, Date: now.Add(2 * time.Minute), Mailer: "Foxmail 7.2.25.228[cn]",
		Body: "受理\n\n李编辑\n\n------------------ 原始邮件 ------------------\n发件人: \"凤凰网投诉受理中心\" <" + deskAddr + ">;\n" +
			"主题: " + subj + "\n\n请直接回复本邮件下达指令，例如“受理”或“驳回 理由”。\n",
	}
	return sample{"the editor's reply 受理 to the notification of the complete case", m.Bytes()}
}
