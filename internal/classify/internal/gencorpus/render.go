package main

import (
	"fmt"
	"html"
	"strings"
)

// client describes how one mail client writes a message.
type client struct {
	charset    string // body and encoded-word charset ("utf-8" for UTF-8)
	cte        string // body transfer encoding: base64 or quoted-printable
	headers    []string
	boundary   string // %d is the mail number
	alt        bool   // multipart/alternative with an HTML part
	nameParam  string // "2047" (name="=?cs?B?..?=") , "2231", "2231cont", "raw"
	quoteIntro string // text before a quoted original (%s = from)
	signature  string
}

func clientFor(style string, n int) client {
	switch style {
	case "foxmail":
		return client{charset: "gb2312", cte: "base64", boundary: "----=_001_NextPart%06d_=----", alt: true, nameParam: "2047",
			headers:    []string{"X-Priority: 3", "X-GUID: 5A1B2C3D-4E5F-6789-ABCD-EF01234567%02d", "X-Has-Attach: yes", "X-Mailer: Foxmail 7.2.25.375[cn]"},
			quoteIntro: "\n\n\n\n------------------ 原始邮件 ------------------\n"}
	case "qq":
		return client{charset: "gb18030", cte: "base64", boundary: "----=_NextPart_65E2%04d_0C3F5A80_2C1D4E7B", alt: true, nameParam: "2047",
			headers:    []string{"X-QQ-mid: xmsmtpt17093427%02dtq8n7x5rw", "X-QQ-SSF: 00000000000000F000000000000000", "X-QQ-XMAILINFO: NvOxnU1T8Wv6+2q5Zk6c3nbW1P0dJ", "X-Mailer: QQMail 2.x"},
			quoteIntro: "\n\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n"}
	case "163":
		return client{charset: "GBK", cte: "base64", boundary: "----=_Part_%d_1349723061.1709343000123", alt: true, nameParam: "2047",
			headers: []string{"X-Originating-IP: [223.104.3.%d]", "X-Priority: 3", "X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15) Copyright (c) 2002-2026 www.mailtech.cn 163com",
				"X-NTES-SC: AL_Qu2bBfqcuEAo7iOdbOkfmkoShe4jWMC2v/Qk3YRWN5t9jDHp+R0xb0drG1f6IsFA==", "X-CM-TRANSID: _____wD3f8jQ3+Jl5XQBAA--.4%02dS2",
				"X-Coremail-Antispam: 1Uf129KBjvJXoW7ZF4rWw47GrWkur1kJw1fXrb_yoW8Gr1UpF\n\tWxWrZ8KryUJF1kuw4xAa1kKwsrKF1S9wnxuFW5Gr4rXwn8JwnxWr1UJF4Ikw1fAr10vF15\n\tXr1UJa4IkwAv", "X-CM-SenderInfo: hdkh0xhhwzqiywtou0bp/1tbiQBjNxWXAl"},
			quoteIntro: "\n\n\n\n在 2026-03-01 10:12:33，%s 写道：\n"}
	case "126":
		return client{charset: "UTF-8", cte: "base64", boundary: "----=_Part_%d_520019466.1709343000456", alt: true, nameParam: "2047",
			headers: []string{"X-Originating-IP: [117.136.0.%d]", "X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15) Copyright (c) 2002-2026 www.mailtech.cn 126com",
				"X-CM-TRANSID: _____wBXi0k34+Jl7DQB--.2%02dS2", "X-Coremail-Antispam: 1Uf129KBjvdXoWrtFWDWFWfGw4rGr15tFW3Jrb_yoWDZwcEkF\n\t1kKr1UtF15Jw4UtryUJr1Utr1UtFykCw4Yy", "X-CM-SenderInfo: 5d1j0vbpvyqiywtou0bp/xtbBgEYxWXAm"},
			quoteIntro: "\n\n在 2026-03-01 10:12:33，%s 写道：\n"}
	case "outlook":
		return client{charset: "gb2312", cte: "quoted-printable", boundary: "_004_HK0PR03MB4%03dABCDEFGHIJapcprd03prod_", alt: false, nameParam: "2231",
			headers: []string{"Thread-Topic: =?gb2312?B?yb6z/cnqx+s=?=", "Thread-Index: AdpsQ2Xn7v1Jk0q8T2mC3x4ZbA%02d==", "Accept-Language: zh-CN, en-US", "Content-Language: zh-CN",
				"X-MS-Has-Attach: yes", "X-MS-TNEF-Correlator: ", "X-Mailer: Microsoft Outlook 16.0"},
			quoteIntro: "\n\n发件人: %s\n发送时间: 2026年3月1日 10:12\n收件人: 投诉受理 <ts@desk.example>\n主题: 回复: 删帖申请\n\n"}
	case "apple":
		return client{charset: "utf-8", cte: "quoted-printable", boundary: "Apple-Mail=_3F1B5C2A-1D4E-4B8F-9C2A-5E6F7A8B%04d", nameParam: "2231cont",
			headers:    []string{"Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))", "X-Mailer: Apple Mail (2.3774.500.171.1.1)"},
			quoteIntro: "\n\n> 2026年3月1日 10:12，%s 写道：\n"}
	case "iphone":
		return client{charset: "utf-8", cte: "base64", boundary: "Apple-Mail-8E7D6C5B-4A39-2817-%04d", nameParam: "raw",
			headers: []string{"Mime-Version: 1.0 (1.0)", "X-Mailer: iPhone Mail (21E236)"}, signature: "\n\n发自我的iPhone"}
	case "big5":
		return client{charset: "big5", cte: "base64", boundary: "----=_NextPart_000_00%02d_01DA6C1B.2F3E4A50", alt: true, nameParam: "2047",
			headers:    []string{"X-Mailer: Microsoft Outlook 16.0", "Thread-Index: AQHabC1bL3/Ek2gL%02d", "Content-Language: zh-tw", "X-MS-Has-Attach: yes"},
			quoteIntro: "\n\n-----原始郵件-----\n寄件者: %s\n"}
	}
	panic("unknown style " + style)
}

// render writes one scenario as a raw RFC 5322 message in its client's style.
func render(sc Scenario, n int) []byte {
	c := clientFor(sc.Style, n)
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	hcs := c.charset
	w("Return-Path: <%s>", sc.From)
	w("Received: from mx.example.net (unknown [10.1.2.%d])\r\n\tby mail.desk.example (Postfix) with ESMTPS id 4Tq%04dXYZ\r\n\tfor <ts@desk.example>; Mon,  2 Mar 2026 09:30:%02d +0800 (CST)", n, n, n%60)
	w("Date: Mon, 2 Mar 2026 09:%02d:00 +0800", n%60)
	w("From: \"%s\" <%s>", encWords(hcs, sc.FromName), sc.From)
	w("To: \"%s\" <ts@desk.example>", encWords(hcs, "凤凰网投诉受理"))
	w("Subject: %s", encWords(hcs, sc.Subject))
	w("Message-ID: <gen%04d.%s@%s>", n, sc.Name, domainOf(sc.From))
	for _, h := range c.headers {
		if strings.Contains(h, "%") {
			h = fmt.Sprintf(h, n)
		}
		b.WriteString(crlf(h) + "\r\n")
	}
	if !strings.HasPrefix(strings.Join(c.headers, ""), "Mime-Version") && !hasPrefixAny(c.headers, "Mime-Version") {
		w("MIME-Version: 1.0")
	}
	boundary := fmt.Sprintf(c.boundary, n)
	text := sc.Body + c.signature
	if sc.Quote != "" {
		intro := c.quoteIntro
		if strings.Contains(intro, "%s") {
			intro = fmt.Sprintf(intro, "\"凤凰网投诉受理\"<ts@desk.example>")
		}
		intro = strings.ReplaceAll(intro, "&nbsp;", " ")
		q := sc.Quote
		if sc.Style == "apple" {
			q = "> " + strings.ReplaceAll(q, "\n", "\n> ")
		}
		text += intro + q
	}
	w("Content-Type: multipart/mixed;\r\n\tboundary=\"%s\"", boundary)
	w("")
	w("This is a multi-part message in MIME format.")
	w("")
	w("--%s", boundary)
	if c.alt {
		ab := strings.Replace(boundary, "001", "002", 1) + "_alt"
		w("Content-Type: multipart/alternative;\r\n\tboundary=\"%s\"", ab)
		w("")
		w("--%s", ab)
		b.WriteString(textPart(c, "plain", text))
		w("--%s", ab)
		b.WriteString(textPart(c, "html", toHTML(text)))
		w("--%s--", ab)
		w("")
	} else {
		b.WriteString(textPart(c, "plain", text))
	}
	for _, a := range sc.Atts {
		w("--%s", boundary)
		b.WriteString(attPart(c, sc.Style, a))
	}
	w("--%s--", boundary)
	w("")
	return []byte(b.String())
}

func hasPrefixAny(hs []string, p string) bool {
	for _, h := range hs {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

func domainOf(addr string) string {
	if i := strings.LastIndex(addr, "@"); i >= 0 {
		return addr[i+1:]
	}
	return "example.com"
}

func toHTML(text string) string {
	var b strings.Builder
	b.WriteString("<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"></head><body>")
	for _, l := range strings.Split(text, "\n") {
		b.WriteString("<div>" + html.EscapeString(l) + "</div>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

func textPart(c client, sub, text string) string {
	var b strings.Builder
	c.charset = pickCharset(c.charset, text)
	fmt.Fprintf(&b, "Content-Type: text/%s;\r\n\tcharset=\"%s\"\r\n", sub, c.charset)
	fmt.Fprintf(&b, "Content-Transfer-Encoding: %s\r\n\r\n", c.cte)
	body := encode(c.charset, crlf(text))
	if c.cte == "base64" {
		b.WriteString(b64(body))
	} else {
		b.WriteString(qp(body))
	}
	b.WriteString("\r\n")
	return b.String()
}

func attPart(c client, style string, a Att) string {
	var b strings.Builder
	ct := contentType(a.Name)
	disp := "attachment"
	if a.Inline {
		disp = "inline"
	}
	var nameP, fileP string
	switch c.nameParam {
	case "2047":
		nameP = "name=\"" + encWords(c.charset, a.Name) + "\""
		fileP = "filename=\"" + encWords(c.charset, a.Name) + "\""
	case "2231":
		nameP = "name=\"" + encWords(c.charset, a.Name) + "\""
		fileP = rfc2231("filename", a.Name, false)
	case "2231cont":
		nameP = rfc2231("name", a.Name, true)
		fileP = rfc2231("filename", a.Name, true)
	case "raw":
		// iPhone: RFC 2231 for non-ASCII, plain for ASCII camera names.
		if isASCII(a.Name) {
			nameP, fileP = "name=\""+a.Name+"\"", "filename=\""+a.Name+"\""
		} else {
			nameP, fileP = rfc2231("name", a.Name, false), rfc2231("filename", a.Name, false)
		}
	}
	if a.Eml != "" {
		fmt.Fprintf(&b, "Content-Type: message/rfc822;\r\n\t%s\r\n", nameP)
		fmt.Fprintf(&b, "Content-Disposition: %s;\r\n\t%s\r\n\r\n", disp, fileP)
		b.WriteString(crlf(a.Eml))
		b.WriteString("\r\n")
		return b.String()
	}
	if style == "apple" && strings.HasPrefix(ct, "image/") {
		ct += ";\r\n\tx-unix-mode=0644"
	}
	fmt.Fprintf(&b, "Content-Type: %s;\r\n\t%s\r\n", ct, nameP)
	fmt.Fprintf(&b, "Content-Transfer-Encoding: base64\r\n")
	fmt.Fprintf(&b, "Content-Disposition: %s;\r\n\t%s\r\n", disp, fileP)
	if style == "iphone" && a.Inline {
		fmt.Fprintf(&b, "Content-Id: <%X@desk>\r\n", len(a.Name)*7919)
	}
	b.WriteString("\r\n")
	b.WriteString(b64(a.content()))
	b.WriteString("\r\n")
	return b.String()
}
