package mailmsg

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusDir holds the public corpus, copied byte-exact from /work/shared/corpus/public
// (see testdata/corpus/MANIFEST.md for the source and expected values of every file).
const corpusDir = "testdata/corpus"

type corpusCase struct {
	file          string
	subject       string // exact, unless subjectPrefix
	subjectPrefix bool
	fromName      string
	fromAddr      string
	files         []string // file attachments (not attached messages), in order
	embedded      int      // attached messages (message/rfc822, message/global)
	auto          AutoKind
	text          string // a substring the Text must contain ("" = no check)
	problem       string // a substring one of the Problems must contain ("" = no check)
}

// corpusCases restate MANIFEST.md; each comment says what the file is there to catch.
var corpusCases = []corpusCase{
	// ARF feedback reports are multipart/report: noise, never a complaint case.
	{file: "arf01-aol-feedback-loop.eml", subject: "Email Feedback Report for IP 173.193.210.34", fromAddr: "scomp@aol.net", embedded: 1, auto: Bounce},
	{file: "arf02-yahoo-feedback-loop.eml", subject: "FW:Some subject", fromName: "Yahoo! Mail AntiSpam Feedback", fromAddr: "feedback@arf.mail.yahoo.com", embedded: 1, auto: Bounce},
	{file: "arf03-126com-arf-text-rfc822-headers.eml", subject: "[dmarc-ietf] DMARC test message", fromAddr: "abuse@126.example.com", auto: Bounce},
	// A UTF-8 BOM before the first header must not hide the headers.
	{file: "arf04-feedback-report-utf8-bom.eml", subject: "FW: Earn money", fromAddr: "abusedesk@example.com", embedded: 1, auto: Bounce},
	// RFC 3834 auto-replies, one only recognisable by Exchange headers and subject.
	{file: "auto01-rfc3834-auto-submitted-no-content-type.eml", subject: "Away until May 5", fromAddr: "kijitora@example.net", auto: AutoReply, text: "I am currently away"},
	{file: "auto02-exchange-automatic-reply-no-auto-submitted.eml", subject: "Automatic reply: Nyaan", fromName: "Kijitora", fromAddr: "kijitora@example.org", auto: AutoReply},
	{file: "auto03-autoresponder-encoded-word-subject-crlf.eml", subject: "AutoRespons :Nyaan?", fromAddr: "noreply@example.com", auto: AutoReply},
	// Raw 8-bit GB2312 in From and Subject, no RFC 2047.
	{file: "cn01-gb2312-raw8bit-from-subject-crlf.eml", subject: "全新原装进口，送货上门，货到付款－台湾鑫龙商贸集团公司向您拜年!", fromName: "台湾鑫龙商贸集团公司", fromAddr: "1234@e34.com", text: "台湾鑫龙商贸集团公司向您拜年!"},
	// Encoded word inside an address comment; list mail.
	{file: "cn02-gb2312-encoded-word-in-comment-8bit-body.eml", subject: "RE: 装硬碟问题", fromName: "Jason Lee (李展锋)", fromAddr: "Jason_Lee@quantatw.com", auto: List, text: "假设你的硬碟是IDE介面(不是SCSI)"},
	// Raw Big5 subject must not be read as GBK.
	{file: "cn03-big5-raw8bit-subject-base64-html.eml", subject: "[SLAT-talk] 鉅靡6月17日新片又到.如有重複寄發.敬請原諒!．．．．．．鉅靡6月17日新片又到.如有重複寄發.敬請原諒!．．．", fromAddr: "y971880896@pchome.com.tw", auto: List, text: "永久網址"},
	// UTF-16 encoded word and no addr-spec at all.
	{file: "cn04-utf16-encoded-word-zh-tw-utf8-subject.eml", subject: "【重要訊息】台電105年3月電費，委託金融機構扣繳成功電子繳費憑證(電號07487616730)", fromName: "👉 test", text: "test"},
	// gb2312 label on a UTF-8 body: the bytes win.
	{file: "cn05-gb2312-outlook-express-raw8bit-to.eml", subject: "代开各地增值税发票", fromName: "张先生", fromAddr: "baoguan@hotmail.com", text: "你好！我公司可代开各类增值税发票"},
	// gb2312 label on GBK-only bytes must decode via GB18030 (checked in detail below).
	{file: "cn06-gb2312-label-gbk-bytes-in-subject.eml", subject: "我把镜头拉近些，你们看看这个是什么", subjectPrefix: true, fromName: "xwfcpggy", fromAddr: "zyb@sgis.com.cn"},
	// Truncated NDR: no closing boundaries, GBK-only bytes under a gb2312 label.
	{file: "cn07-gb2312-label-gbk-bytes-dsn-truncated.eml", fromAddr: "foo@bar.de", auto: Bounce, text: "次の受信者またはグループへの配信に失敗しました:", problem: "final boundary"},
	// Double-encoded subject is valid UTF-8: taken as it is.
	{file: "cn08-big5-double-encoded-raw-subject-empty-cte.eml", subject: "4d8119¡@(¤j¸ÉªwÄÑ±M½æ)", subjectPrefix: true, fromAddr: "3712f2@msa.hinet.net"},
	// Mixed-case everything, GBK words, CTE on a multipart, filename beats name.
	{file: "cn09-gbk-mixed-case-multipart-mixed-base64.eml", subject: "📧 Test 施氏食狮史", fromName: "艾莉絲 发件人", fromAddr: "alice.fajianren@example.com",
		files: []string{"inline-jpg-image-without-disposition.jpg", "inline-jpg-image-filename.jpg", "attached-pdf-filename.pdf", "attached-pdf-without-disposition.pdf", "attached-json-filename.json", "attached-text-plain-filename.txt", "attached-text-html-filename.html"},
		text:  "石室诗士施氏，嗜狮，誓食十狮。"},
	{file: "cn10-gb18030-multipart-mixed-qp.eml", subject: "📧 Test 施氏食狮史", fromName: "艾莉絲 发件人", fromAddr: "alice.fajianren@example.com",
		files: []string{"inline-jpg-image-without-disposition.jpg", "inline-jpg-image-filename.jpg", "attached-pdf-filename.pdf", "attached-pdf-without-disposition.pdf", "attached-json-filename.json", "attached-text-plain-filename.txt", "attached-text-html-filename.html"},
		text:  "石室诗士施氏，嗜狮，誓食十狮。"},
	{file: "cn11-gb18030-plaintext-base64.eml", subject: "📧 Test 施氏食狮史", fromName: "艾莉絲 发件人", fromAddr: "alice.fajianren@example.com", text: "石室诗士施氏，嗜狮，誓食十狮。"},
	// Charset declared only on the multipart/signed parent: inherited.
	{file: "cn12-gbk-multipart-signed-qp.eml", subject: "📧 Signed Test 施氏食狮史", fromName: "艾莉絲 发件人", fromAddr: "alice.fajianren@example.com", files: []string{"smime.p7s"}, text: "石室诗士施氏，嗜狮，誓食十狮。"},
	{file: "cn13-x-gbk-charset-label.eml", subject: "Nuu", fromAddr: "from@there.com", text: "Hi"},
	// Big5 bytes under a us-ascii label: detected.
	{file: "cn14-big5-body-labelled-us-ascii-part.eml", text: "顏是家訓  北齊  顏之推"},
	{file: "cn15-encoded-words-inside-quotes-subject.eml", subject: `Re: Test: "漢字" mid "漢字" tail`, fromName: "Jamis Buck", fromAddr: "jamis@37signals.com", text: "대부분의 마찬가지로, 우리는 하나님을 믿습니다."},
	{file: "cn16-ks_c_5601-1987-charset-alias.eml", subject: "test", fromAddr: "from@example.com", text: "스티해"},
	// Precedence: bulk (a list) with a Shift_JIS attachment.
	{file: "cn17-iso-2022-jp-with-shift_jis-attachment.eml", subject: "MIME text/plain attach with Shift_JIS (CP932)", fromName: "Shinichiro HIDA", fromAddr: "shinichiro@stained-g.net", files: []string{"test-sjis.txt", "test-archive.txt"}, auto: List},
	// Bounces: the returned message is an attached message, not a file.
	{file: "dsn01-rfc3464-simple.eml", subject: "Returned mail: Cannot send message for 5 days", fromName: "Mail Delivery Subsystem", fromAddr: "MAILER-DAEMON@cs.utk.edu", embedded: 1, auto: Bounce},
	{file: "dsn02-rfc3464-multi-recipient.eml", subject: "Returned mail: User unknown", fromName: "Mail Delivery Subsystem", fromAddr: "MAILER-DAEMON@cs.utk.edu", embedded: 1, auto: Bounce},
	{file: "dsn03-rfc3464-delayed.eml", subject: `WARNING: message delayed at "nsfnet-relay.ac.uk"`, fromAddr: "postmaster@nsfnet-relay.ac.uk", auto: Bounce},
	// Unindented boundary= continuation (Outlook bug) must be joined: the text is found.
	{file: "dsn04-office365-iso-2022-jp-subject-auto-submitted.eml", subject: "Undeliverable: ニャーン", fromName: "Microsoft Outlook", fromAddr: "postmaster@outlook.com", embedded: 1, auto: Bounce, text: "rejected your message"},
	{file: "dsn05-postfix-bounce-tencent-qq.eml", subject: "Undelivered Mail Returned to Sender", fromName: "Mail Delivery System", fromAddr: "MAILER-DAEMON@mail.example.net", embedded: 1, auto: Bounce},
	{file: "dsn06-domino-multi-encoded-words-no-close-boundary.eml", subject: "DELIVERY FAILURE: ユーザー Neko (kijitora@example.co.jp) は Domino ディレクトリには見つかりません。", fromAddr: "Postmaster@example.co.jp", embedded: 1, auto: Bounce},
	{file: "dsn07-1996-report-content-length-no-blank-line.eml", subject: "email delivery error", fromName: "The Post Office", fromAddr: "postmaster@mm1.sprynet.com", embedded: 1, auto: Bounce},
	// multipart/mixed bounce with a TNEF part: kept as a file, flagged.
	{file: "dsn08-amazon-workmail-bounce-with-winmail-dat.eml", subject: "Delivery Status Notification (Failure)", fromAddr: "MAILER-DAEMON@us-west-2.amazonses.com", files: []string{"winmail.dat"}, embedded: 1, auto: Bounce, problem: "winmail.dat"},
	{file: "dsn09-amazon-ses-8bit-original-message.eml", subject: "Delivery Status Notification (Failure)", fromAddr: "MAILER-DAEMON@amazonses.com", embedded: 1, auto: Bounce},
	// multipart without boundary: read as one text body.
	{file: "dsn10-multipart-report-without-boundary.eml", subject: "Delivery Status Notification (Failure)", fromAddr: "Mailer-Daemon@example.com", auto: Bounce, text: "I'm  multipart message without boundary", problem: "boundary"},
	// File name torture: RFC 2231 continuations, charsets, folded GB2312 words, precedence.
	{file: "fn01-gb2312-folded-encoded-word-filename-and-rfc2231-mix.eml", subject: "Attachment Filenames", fromName: "Foo Bar", fromAddr: "foo.bar@example.com",
		files: []string{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345.txt", "文字.txt", "£ rates.txt", strings.Repeat("文字", 100) + ".txt", "a.txt", "b.txt", "c.txt", "d.txt", "e.txt"}},
	{file: "fn02-foxmail-boundary-raw-utf8-chinese-filename.eml", subject: "Malformed test", fromName: "Pavel Bazika", fromAddr: "pavel.bazika@some.domain", files: []string{"管理.doc"}},
	{file: "fn03-iso-2022-jp-encoded-word-in-quoted-filename.eml", subject: "☆第132号　「ガーデン&エクステリア」専門店のためのＱ&Ａサロン　【月刊エクステリア・ワーク】", fromAddr: "from@there.com", files: []string{"☆第132号　「ガーデン&エクステリア」専門店のためのＱ&Ａサロン　【月刊エクステリア・ワーク】"}},
	{file: "fn04-rfc2231-continuation-utf8-japanese.eml", subject: strings.Repeat("まみむめも", 10), fromName: "Mikel Lindsaar", fromAddr: "mikel@test.lindsaar.net", files: []string{strings.Repeat("かきくけこ", 5) + ".txt"}},
	{file: "fn05-rfc2231-latin1-plus-encoded-word-name.eml", subject: "Eelanalüüsi päring", fromName: "Jeffrey Hardy", fromAddr: "jeff@37signals.com", files: []string{"Eelanalüüsi päring.jpg"}},
	{file: "fn06-rfc2231-utf8-thunderbird.eml", files: []string{"attachment.äöü"}},
	// Bytes that are not ISO-2022-JP under that label: U+FFFD, not a failure.
	{file: "fn07-rfc2231-wrong-charset-label.eml", subject: "Fwd: Signed email causes file attachments", fromName: "xxxxxxxxx xxxxxxx", fromAddr: "xxxxxxxxx.xxxxxxx@gmail.com", files: []string{"01 Quien Te Dij\uFFFDat. Pitbull.mp3"}},
	{file: "fn08-unquoted-encoded-word-filename.eml", subject: "Fwd: Signed email causes file attachments", fromName: "xxxxxxxxx xxxxxxx", fromAddr: "xxxxxxxxx.xxxxxxx@gmail.com", files: []string{"This is a test.pdf"}},
	{file: "fn09-raw-utf8-unquoted-filename.eml", subject: "testing", fromAddr: "foo@example.com", files: []string{"ciële.txt"}},
	{file: "fn10-mangled-8bit-name-outlook-express.eml", subject: "Sup?", fromName: "Bobby", fromAddr: "bob@example.com", files: []string{"\uFFFD½\uFFFD \uFFFDı\uFFFD\uFFFDĵ\uFFFD.txt"}},
	// Encoded word split across a fold inside a quoted file name.
	{file: "fn11-encoded-word-split-across-fold-in-quoted-filename.eml", subject: "Fwd:", fromAddr: "test@test.com", files: []string{"[삼성생명]2020.08.14 데일리 경제뉴스.pdf", "01029_402110_10620_RGT06902_PRT180ML_20200803_101820.pdf"}},
	// Windows paths in file names: the base name is kept.
	{file: "fn12-netscape-windows-path-filenames.eml", subject: "Die Hasen und die Frösche (Netscape Messenger 4.7)", fromName: "Doug Sauder", fromAddr: "dwsauder@example.com", files: []string{"nsmailEG.png", "nsmail39.png", "redball.png", "greenball.png"}},
	{file: "fn13-single-part-root-is-attachment.eml", fromAddr: "test@example.com", files: []string{"screenshot.png"}},
	// Malformed structure: each keeps what can be read and says what was wrong.
	{file: "mal01-missing-final-boundary.eml", subject: "Attachment", fromName: "James Hillyerd", fromAddr: "james@makita.skynet", files: []string{"foo_9E5D72.zip"}, text: "A text section", problem: "final boundary"},
	{file: "mal02-malformed-base64-attachment.eml", subject: "Attachment", fromName: "James Hillyerd", fromAddr: "james@makita.skynet", files: []string{"some.doc"}, text: "A text section"},
	{file: "mal03-duplicate-params-outlook-cdo.eml", subject: "Confirmation of Booking with easyHotel", fromAddr: "bookings@easyhotel.com", fromName: "easyHotel Booking", files: []string{"Invoice_302232133150612.pdf"}},
	{file: "mal04-unquoted-tspecials-in-param.eml", subject: "Confirmation of Booking with easyHotel", fromAddr: "bookings@easyhotel.com", fromName: "easyHotel Booking", files: []string{"Invoice_(302232133150612).pdf"}},
	{file: "mal05-part-without-content-type.eml", subject: "plain text", fromName: "James Hillyerd", fromAddr: "james@makita.skynet", text: "A text section"},
	{file: "mal06-unknown-charset-label.eml", subject: "Attachment", fromName: "James Hillyerd", fromAddr: "james@makita.skynet", files: []string{"foo_9E5D72.zip"}, text: "A text section", problem: "unknown charset fakescii"},
	{file: "mal07-param-continuation-without-indent.eml", subject: "Attachment", fromName: "James Hillyerd", fromAddr: "james@makita.skynet", files: []string{"7DDA4_foo_9E5D72.zip"}, text: "A text section"},
	{file: "mal08-two-addresses-without-comma.eml", subject: "Test", fromName: "Bob Dunite", fromAddr: "bob@extern", files: []string{"test.pdf", "test.txt"}, text: "Simple text."},
	{file: "mal09-utf8-8bit-body-labelled-us-ascii.eml", subject: "plain text", fromName: "James Hillyerd", fromAddr: "james@makita.skynet", text: "∮ E⋅da = Q,  n → ∞"},
	{file: "mal10-plain-text-declared-base64.eml", subject: "alert", fromName: "example", fromAddr: "example@demo.com", text: "ploozdect  nispplul", problem: "not base64"},
	{file: "mal11-inner-boundary-has-outer-as-prefix.eml", subject: "test", files: []string{"Daily_Stats-2022-05-12-0700.pdf"}, text: "Please see attachment for report"},
	{file: "mal12-missing-inner-boundary.eml", text: "Foo", problem: "boundary never found"},
	{file: "mal13-header-block-without-blank-line.eml", subject: "this is a subject", text: "This is an invalid header", problem: "empty line"},
	{file: "mal14-raw-8bit-garbage-headers.eml", subject: "´!", fromName: "Юникод запрещен\uFFFD", fromAddr: "headers@gmail.com"},
	{file: "mal15-two-content-type-headers.eml", subject: "Redacted", fromAddr: "redacted@flashmail.net", text: "foo"},
	{file: "mal16-encoded-word-unknown-charset-bad-padding.eml", subject: "TEST", problem: "unknown charset none"},
	{file: "mal17-rfc6532-raw-utf8-headers.eml", subject: "Säying Hello", fromName: "Jöhn Doe", fromAddr: "jdöe@mächine.example"},
	// The body bytes are UTF-7 (garbled upstream); only check that the shifts are decoded.
	{file: "mal18-raw-utf7-text-in-headers-utf7-body.eml", subject: "Die Hasen und die Fr+APY-sche", fromName: "Doug Sauder", fromAddr: "dwsauder@example.com", text: "Die Hasen und die Fr\u5ca3he"},
	{file: "mal19-invalid-media-type-no-slash.eml", subject: "Test of an invalid mime-type", fromName: "someone", fromAddr: "someone@somewhere.com", files: []string{"document.xml.gz"}, problem: "invalid media type"},
	{file: "mal20-cte-quoted-printable-with-space.eml", subject: "Low or High Blood Pressure? We can help.", fromName: "Wilmer Capps", fromAddr: "fyouizjnp@swissonline.ch", text: "If you're in need of a good RX site"},
	{file: "mal21-cte-x-uuencode.eml", subject: "PGP Comments on RTO West Release of Dec. 14", fromName: "Lon L. Peters", fromAddr: "lpeters@pacifier.com", files: []string{"PGP_Cmts_on_12-14-01_Pkg.doc"}},
	{file: "mal22-uuencode-in-plain-body.eml", subject: "uudecoding", fromName: "me", text: "begin 644 up.gif"},
	// Raw Latin-1 byte inside a Q word and in a file name.
	{file: "mal23-binhex-attachments-eudora.eml", subject: "Die Hasen und die Frösche", fromName: "Doug Sauder", fromAddr: "dwsauder@example.com", files: []string{"blueball.png", "HasenundFrösche.txt"}},
	{file: "mal24-message-global-attachment.eml", subject: "Wow", fromName: "Bob Marley", fromAddr: "bob@example.net", embedded: 1},
	{file: "mal25-empty-multipart.eml", subject: "test of empty multipart/alternative", fromAddr: "mimekit@example.com"},
	{file: "mal26-multipart-8bit-cte-embedded-rfc822.eml", subject: "Fwd: fotos", fromName: "wwuaof", fromAddr: "booewq@uuui.com", embedded: 1, text: "forwarded message attached"},
	{file: "mdn01-disposition-notification.eml", subject: "Disposition notification", fromName: "Joe Recipient", fromAddr: "Joe_Recipient@example.com", embedded: 1, auto: Bounce},
	{file: "tnef01-top-level-ms-tnef-read-receipt.eml", subject: "Read: invitation", fromName: "Test Sender", fromAddr: "sender@email.test", files: []string{"winmail.dat"}, problem: "TNEF"},
	{file: "tnef02-winmail-dat-koi8-r-body.eml", subject: "rr test 7", fromName: "RR Tester 1", fromAddr: "rrtest1@xink.io", files: []string{"winmail.dat"}, text: "шостий", problem: "TNEF"},
}

// corpusFiles lists the corpus messages; the test fails if the corpus is missing.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	return files
}

func parseFile(t testing.TB, path string, spool Spool) *Message {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Parse(f, spool, Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return m
}

// sharedCorpus is where the corpus was copied from (the desk's shared workspace).
const sharedCorpus = "../../../shared/corpus/public"

// TestCorpusMatchesShared checks that testdata/corpus is still a byte-exact copy
// (line endings included) of the shared corpus, when that is present.
func TestCorpusMatchesShared(t *testing.T) {
	shared, _ := filepath.Glob(filepath.Join(sharedCorpus, "*.eml"))
	if len(shared) == 0 {
		// CI runs on a clean clone where the workplace's shared directory does not
		// exist; the copy under testdata/ is what the tests use.
		t.Skipf("shared corpus %s not present (only the workplace has it)", sharedCorpus)
	}
	for _, f := range shared {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(corpusDir, filepath.Base(f)))
		if err != nil {
			t.Errorf("missing copy: %v", err)
			continue
		}
		if sha256.Sum256(got) != sha256.Sum256(want) {
			t.Errorf("%s differs from the shared corpus (line endings changed?)", filepath.Base(f))
		}
	}
}

// TestCorpusCoversEveryFile keeps the table and the corpus in step.
func TestCorpusCoversEveryFile(t *testing.T) {
	var inTable []string
	for _, c := range corpusCases {
		inTable = append(inTable, c.file)
	}
	for _, f := range corpusFiles(t) {
		if !slices.Contains(inTable, filepath.Base(f)) {
			t.Errorf("%s has no case in corpusCases", filepath.Base(f))
		}
	}
}

func TestCorpus(t *testing.T) {
	for _, c := range corpusCases {
		t.Run(strings.TrimSuffix(c.file, ".eml"), func(t *testing.T) {
			spool := &MemSpool{}
			m := parseFile(t, filepath.Join(corpusDir, c.file), spool)
			if c.subjectPrefix {
				if !strings.HasPrefix(m.Subject, c.subject) {
					t.Errorf("Subject = %q, want prefix %q", m.Subject, c.subject)
				}
			} else if m.Subject != c.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, c.subject)
			}
			if m.From.Name != c.fromName || m.From.Address != c.fromAddr {
				t.Errorf("From = %q <%s>, want %q <%s>", m.From.Name, m.From.Address, c.fromName, c.fromAddr)
			}
			var files []string
			embedded := 0
			for _, a := range m.Attachments {
				if a.Embedded {
					embedded++
					continue
				}
				files = append(files, a.Filename)
			}
			if !slices.Equal(files, c.files) {
				t.Errorf("files = %q, want %q", files, c.files)
			}
			if embedded != c.embedded {
				t.Errorf("attached messages = %d, want %d", embedded, c.embedded)
			}
			if m.Auto != c.auto {
				t.Errorf("Auto = %q (%s), want %q", m.Auto, m.AutoReason, c.auto)
			}
			if (m.Auto == Human) != (m.AutoReason == "") {
				t.Errorf("AutoReason %q does not fit Auto %q", m.AutoReason, m.Auto)
			}
			if !strings.Contains(m.Text, c.text) {
				t.Errorf("Text = %q, want it to contain %q", clipText(m.Text), c.text)
			}
			if c.problem != "" && !slices.ContainsFunc(m.Problems, func(p string) bool { return strings.Contains(p, c.problem) }) {
				t.Errorf("Problems = %q, want one containing %q", m.Problems, c.problem)
			}
			checkUTF8(t, m)
			checkSpool(t, m, spool)
		})
	}
}

func clipText(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "..."
	}
	return s
}

// checkUTF8 asserts the package invariant: everything returned is valid UTF-8.
func checkUTF8(t testing.TB, m *Message) {
	t.Helper()
	strs := []string{m.Subject, m.From.Name, m.From.Address, m.Text, m.MessageID, m.Sender, m.Mailer, m.AutoReason}
	for _, a := range m.Attachments {
		strs = append(strs, a.Filename, a.ContentType)
	}
	for _, l := range [][]Address{m.To, m.Cc, m.ReplyTo} {
		for _, a := range l {
			strs = append(strs, a.Name, a.Address)
		}
	}
	strs = append(strs, m.Problems...)
	for _, f := range m.Trace {
		strs = append(strs, f.Value)
	}
	strs = append(strs, m.References...)
	for k, v := range m.Headers {
		strs = append(strs, k, v)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 in output: %q", s)
		}
	}
}

// checkSpool asserts that every stored attachment is in the spool with the size and
// SHA-256 the Message claims.
func checkSpool(t testing.TB, m *Message, spool *MemSpool) {
	t.Helper()
	stored := 0
	for _, a := range m.Attachments {
		if a.Skipped != "" {
			continue
		}
		stored++
		r, err := spool.Open(a.SpoolID)
		if err != nil {
			t.Errorf("%q: %v", a.Filename, err)
			continue
		}
		b, _ := io.ReadAll(r)
		sum := sha256.Sum256(b)
		if int64(len(b)) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 {
			t.Errorf("%q: spool has %d bytes sha %x, attachment says %d %s", a.Filename, len(b), sum[:4], a.Size, a.SHA256)
		}
	}
	if got := len(spool.Files()); got != stored {
		t.Errorf("spool holds %d files, message lists %d stored attachments", got, stored)
	}
}

// TestCorpusDetails checks values the table cannot express.
func TestCorpusDetails(t *testing.T) {
	t.Run("cn06 GBK-only char under gb2312 label is U+5C44", func(t *testing.T) {
		m := parseFile(t, filepath.Join(corpusDir, "cn06-gb2312-label-gbk-bytes-in-subject.eml"), &MemSpool{})
		r := []rune(m.Subject)
		if len(r) != 30 || r[17] != '\u5c44' || strings.ContainsRune(m.Subject, '\uFFFD') {
			t.Errorf("Subject = %q (%d runes), want 30 runes with U+5C44 at 17", m.Subject, len(r))
		}
	})
	t.Run("cn05 raw UTF-8 in To", func(t *testing.T) {
		m := parseFile(t, filepath.Join(corpusDir, "cn05-gb2312-outlook-express-raw8bit-to.eml"), &MemSpool{})
		if len(m.To) != 1 || m.To[0].Address != "danglüe@email.com" {
			t.Errorf("To = %+v", m.To)
		}
	})
	t.Run("mal08 two mailboxes without comma", func(t *testing.T) {
		f, _ := os.ReadFile(filepath.Join(corpusDir, "mal08-two-addresses-without-comma.eml"))
		_, rest, _ := strings.Cut(string(f), "From: ")
		line, _, _ := strings.Cut(rest, "\n")
		got := parseAddressList([]byte(strings.TrimSpace(line)))
		if len(got) != 2 || got[1].Address != "bobby@extern" || got[1].Name != "Bobby Dunite" {
			t.Errorf("From list = %+v", got)
		}
	})
	t.Run("mal02 lenient base64 skips the bad byte", func(t *testing.T) {
		spool := &MemSpool{}
		m := parseFile(t, filepath.Join(corpusDir, "mal02-malformed-base64-attachment.eml"), spool)
		r, err := spool.Open(m.Attachments[0].SpoolID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		if string(b) != "<html>\n" {
			t.Errorf("content = %q", b)
		}
	})
	t.Run("mal24 UTF-8 To name and thanks.eml", func(t *testing.T) {
		m := parseFile(t, filepath.Join(corpusDir, "mal24-message-global-attachment.eml"), &MemSpool{})
		if len(m.To) == 0 || m.To[0].Name != "Александр Клижентас☯" {
			t.Errorf("To = %+v", m.To)
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Filename != "thanks.eml" || m.Attachments[0].ContentType != "message/global" {
			t.Errorf("Attachments = %+v", m.Attachments)
		}
	})
	t.Run("cn17 Shift_JIS attachment content kept as bytes", func(t *testing.T) {
		spool := &MemSpool{}
		m := parseFile(t, filepath.Join(corpusDir, "cn17-iso-2022-jp-with-shift_jis-attachment.eml"), spool)
		r, err := spool.Open(m.Attachments[0].SpoolID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		if s, _ := decodeCharset("shift_jis", b); !strings.HasPrefix(s, "このファイルの形式は、") {
			t.Errorf("content decodes to %q", clipText(s))
		}
	})
}
