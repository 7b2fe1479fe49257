// SPDX-License-Identifier: MIT

package desk

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
)

type wantCmd struct {
	a   cases.Action
	arg string
}

func gotCmds(cmds []Command) []wantCmd {
	var out []wantCmd
	for _, c := range cmds {
		out = append(out, wantCmd{c.Action, c.Arg})
	}
	return out
}

// quotedMarker is a sentence of the quoted notification in every testdata/quotes file:
// it must never survive StripQuoted.
const quotedMarker = "本邮件由投诉受理系统自动发送"

func TestParseCommandsClientQuoteStyles(t *testing.T) {
	// Every sample quotes a notification that itself contains command lines (受理,
	// 驳回 <理由>, 结案, "回复 受理 即可受理"); the exact command list proves none of them ran.
	tests := []struct {
		file string
		why  string
		want []wantCmd
	}{
		{"plain_gt.txt", "plain > quoting; greeting and signature around one command", []wantCmd{{cases.Accept, ""}}},
		{"gmail_en.txt", "Gmail en attribution wrapped over two lines; English, mixed case, colon", []wantCmd{{cases.Accept, "documents verified with legal"}, {cases.Note, "called the applicant, ID matches"}}},
		{"gmail_zh.txt", "Gmail zh 写道：; multi-line reason with full-width colon", []wantCmd{{cases.Reject, "材料不实，稿件内容与事实相符\n所附证明与申请人无关"}}},
		{"apple_zh.txt", "Apple Mail zh 在 …写道：; 发自我的iPhone above the quote", []wantCmd{{cases.NeedMore, "身份证、营业执照，加盖公章的授权书原件"}}},
		{"apple_en.txt", "Apple Mail en attribution inside the > block", []wantCmd{{cases.Assign, "wangwu@example.cn"}}},
		{"outlook_en.txt", "Outlook -----Original Message----- with an unprefixed quote", []wantCmd{{cases.Resolve, "the article was taken down at 11:20"}}},
		{"outlook_en_rule.txt", "Outlook underscore rule + From/Sent/To/Subject block, CRLF", []wantCmd{{cases.Escalate, ""}, {cases.Note, "needs the legal team"}}},
		{"outlook_zh.txt", "Outlook zh -----原始邮件----- block; two commands then a signature", []wantCmd{{cases.Resolve, "稿件已于今日下线"}, {cases.Close, ""}}},
		{"outlook_zh_fullwidth.txt", "Outlook zh 发件人：/发送时间： block with full-width colons, no separator", []wantCmd{{cases.Note, "已电话联系申请人"}, {cases.Accept, ""}}},
		{"foxmail.txt", "Foxmail/QQ ------------------ 原始邮件 ------------------", []wantCmd{{cases.NotifyAuthor, "author@blog.example.com"}}},
		{"qq_nbsp.txt", "QQ Mail &nbsp;Original&nbsp; separator left by HTML conversion", []wantCmd{{cases.Reopen, ""}, {cases.Downgrade, ""}}},
		{"netease.txt", "NetEase 163 在 2026-11-27 10:00:00，\"X\" <a@b> 写道： with an unprefixed quote", []wantCmd{{cases.Accept, ""}}},
		{"netease_master.txt", "NetEase Mail Master ---- 回复的原邮件 ---- table header", []wantCmd{{cases.NeedMore, "id_card business_license"}}},
		{"netease_orig.txt", "NetEase ----- 原始邮件 -----", []wantCmd{{cases.Reject, "reason: the applicant is not the rights holder"}}},
	}
	files, err := filepath.Glob("testdata/quotes/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("%d sample files but %d test cases: every sample needs an expectation", len(files), len(tests))
	}
	for _, tc := range tests {
		raw, err := os.ReadFile(filepath.Join("testdata/quotes", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), quotedMarker) {
			t.Fatalf("%s: sample lacks the quoted notification", tc.file)
		}
		lf := strings.ReplaceAll(string(raw), "\r\n", "\n")
		for _, body := range []string{lf, strings.ReplaceAll(lf, "\n", "\r\n")} {
			stripped := StripQuoted(body)
			if strings.Contains(stripped, quotedMarker) || strings.Contains(stripped, "TS-2026-000123]") ||
				strings.Contains(stripped, "投诉受理台") || strings.Contains(stripped, "Complaint Desk") {
				t.Errorf("%s (%s): StripQuoted kept the quote:\n%s", tc.file, tc.why, stripped)
			}
			cmds, problems := ParseCommands(body)
			if got := gotCmds(cmds); !slices.Equal(got, tc.want) {
				t.Errorf("%s (%s):\n got %q\nwant %q", tc.file, tc.why, got, tc.want)
			}
			if len(problems) != 0 {
				t.Errorf("%s: unexpected problems %q", tc.file, problems)
			}
		}
	}
}

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		want         []wantCmd
		wantProblems int
	}{
		{"English keywords are case-insensitive", "ACCEPT\nClose", []wantCmd{{cases.Accept, ""}, {cases.Close, ""}}, 0},
		{"full-width and half-width colons, spaces before colon", "驳回：理由一\n备注 : 内部\nreject:x", []wantCmd{{cases.Reject, "理由一"}, {cases.Note, "内部"}, {cases.Reject, "x"}}, 0},
		{"argument continues to the blank line", "备注 第一行\n第二行\n\n谢谢", []wantCmd{{cases.Note, "第一行\n第二行"}}, 0},
		{"argument on the following lines only", "驳回：\n材料不实\n证明无效", []wantCmd{{cases.Reject, "材料不实\n证明无效"}}, 0},
		{"a command line ends the previous argument", "备注 核实中\n受理", []wantCmd{{cases.Note, "核实中"}, {cases.Accept, ""}}, 0},
		{"remark after an argument-less command", "结案 文章已删除", []wantCmd{{cases.Close, "文章已删除"}}, 0},
		{"punctuation after the keyword", "受理。\n结案，谢谢", []wantCmd{{cases.Accept, ""}, {cases.Close, "谢谢"}}, 0},
		{"greetings and free text are ignored", "您好，\nHi team,\n请看一下\n受理\nthanks", []wantCmd{{cases.Accept, ""}}, 0},
		{"English words that merely start with a keyword are not commands", "Accepted by the team\nnotes are attached\nclosed?", nil, 0},
		{"Chinese keyword glued to text is reported, not run", "受理后请尽快处理", nil, 1},
		{"驳回理由： is a spelling of reject", "驳回理由：证据不足", []wantCmd{{cases.Reject, "证据不足"}}, 0},
		{"reject without a reason is refused", "驳回\n\n受理", []wantCmd{{cases.Accept, ""}}, 1},
		{"need without items is refused", "补充", nil, 1},
		{"assign without a target is refused", "转交", nil, 1},
		{"notify-author needs an address", "notify-author the author", nil, 1},
		{"notify-author with an address", "Notify-Author <author@example.com>", []wantCmd{{cases.NotifyAuthor, "<author@example.com>"}}, 0},
		{"signature delimiter ends parsing", "受理\n-- \n结案", []wantCmd{{cases.Accept, ""}}, 0},
		{"mobile signature ends an argument", "已处理 已下线\n发自我的iPhone", []wantCmd{{cases.Resolve, "已下线"}}, 0},
		{"traditional characters", "駁回：不實\n結案", []wantCmd{{cases.Reject, "不實"}, {cases.Close, ""}}, 0},
		{"need-more spelling and nbsp", "need-more\u00a0id_card", []wantCmd{{cases.NeedMore, "id_card"}}, 0},
		{"ideographic space after keyword", "转交\u3000张三", []wantCmd{{cases.Assign, "张三"}}, 0},
		{"complainant keywords are not staff commands", "申诉 不服\n撤回", nil, 0},
		{"empty body", "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmds, problems := ParseCommands(tc.body)
			if got := gotCmds(cmds); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if len(problems) != tc.wantProblems {
				t.Errorf("problems = %q, want %d", problems, tc.wantProblems)
			}
		})
	}
}

func TestParseCommandsLineAndRaw(t *testing.T) {
	cmds, _ := ParseCommands("Hi\r\n\r\n驳回：甲\r\n乙\r\n受理")
	if len(cmds) != 2 {
		t.Fatalf("got %d commands", len(cmds))
	}
	if cmds[0].Line != 3 || cmds[0].Raw != "驳回：甲\n乙" || cmds[1].Line != 5 {
		t.Errorf("line/raw wrong: %+v", cmds)
	}
}

func TestStripQuoted(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"no quote", "受理\n谢谢\n", "受理\n谢谢"},
		{"staff sentence mentioning 写道 without a date is text", "他在文章里写道：\n受理", "他在文章里写道：\n受理"},
		{"From: line without other headers is text", "From: the legal team\n受理", "From: the legal team\n受理"},
		{"Outlook bold headers from HTML", "受理\n\n*From:* Desk <ts@example.cn>\n*Sent:* Friday\n*To:* me\n受理", "受理"},
		{"a dash rule alone is not a quote", "受理\n----------\n结案", "受理\n----------\n结案"},
		{"forwarded message separator", "备注 见下\n---------- Forwarded message ---------\nFrom: x", "备注 见下"},
		{"everything quoted", "> 受理", ""},
		{"wrapped Gmail attribution right below a command", "受理\nOn Fri, Nov 27, 2026 at 10:00 AM X <\nx@y.cn> wrote:\n> 结案", "受理"},
		{"a staff line before a full attribution is kept", "备注 在 会议上讨论过\n在 2026年11月27日，10:00，X <x@y.cn> 写道：\n> 结案", "备注 在 会议上讨论过"},
	}
	for _, tc := range tests {
		if got := StripQuoted(tc.body); got != tc.want {
			t.Errorf("%s: StripQuoted = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseNeedItems(t *testing.T) {
	tests := []struct {
		name  string
		arg   string
		codes []cases.Kind
		free  []string
	}{
		{"codes separated by spaces", "id_card business_license", []cases.Kind{"id_card", "business_license"}, nil},
		{"Chinese labels with every separator", "身份证、营业执照，工作证,撤稿函;说明函；证明\n委托书", []cases.Kind{"id_card", "business_license", "work_id", "withdrawal_letter", "explanation_letter", "reason_proof", "power_of_attorney"}, nil},
		{"more specific labels", "在职证明、情况说明、公证书、申请表", []cases.Kind{"work_id", "explanation_letter", "power_of_attorney", "application_form"}, nil},
		{"filler words are trimmed", "身份证复印件、营业执照扫描件", []cases.Kind{"id_card", "business_license"}, nil},
		{"codes are case-insensitive and accept hyphens", "ID-CARD, Power_Of_Attorney", []cases.Kind{"id_card", "power_of_attorney"}, nil},
		{"duplicates count once", "身份证、id_card", []cases.Kind{"id_card"}, nil},
		{"free text stays whole", "加盖公章的授权书原件、身份证", []cases.Kind{"id_card"}, []string{"加盖公章的授权书原件"}},
		{"English free text is not split into words", "a signed copy of the form", nil, []string{"a signed copy of the form"}},
		{"empty", " 、 ", nil, nil},
		// Staff write the document, then what is wrong with it: the document is still
		// asked for by its code, the remark travels as free text.
		{"a document name then a remark", "身份证、营业执照 请提供原件照片", []cases.Kind{"id_card", "business_license"}, []string{"请提供原件照片"}},
	}
	for _, tc := range tests {
		codes, free := ParseNeedItems(nil, tc.arg)
		if !slices.Equal(codes, tc.codes) || !slices.Equal(free, tc.free) {
			t.Errorf("%s: ParseNeedItems(%q) = %q, %q; want %q, %q", tc.name, tc.arg, codes, free, tc.codes, tc.free)
		}
	}
}

func TestParseComplainantAction(t *testing.T) {
	quoted := "\n\n在 2026年11月27日，10:00，投诉受理台 <ts@example.cn> 写道：\n> 如不服，可在7日内回复「申诉」并说明理由；回复「撤回」可撤回申请。\n"
	tests := []struct {
		name   string
		body   string
		ok     bool
		a      cases.Action
		reason string
	}{
		{"appeal with reasons on following lines", "申诉\n文章已被法院判决认定侵权\n判决书见附件" + quoted, true, cases.Appeal, "文章已被法院判决认定侵权\n判决书见附件"},
		{"appeal after a greeting, colon", "您好！\n申诉：理由如下" + quoted, true, cases.Appeal, "理由如下"},
		{"English appeal", "Appeal: the article is defamatory", true, cases.Appeal, "the article is defamatory"},
		{"withdraw", "撤回" + quoted, true, cases.Withdraw, ""},
		{"撤销申请 with remark", "尊敬的工作人员：\n撤销申请，问题已私下解决", true, cases.Withdraw, "问题已私下解决"},
		{"English withdraw, case-insensitive", "WITHDRAW", true, cases.Withdraw, ""},
		{"撤回 in the middle of a sentence does nothing", "我不想撤回申请，请尽快处理", false, "", ""},
		{"a sentence starting with 撤回的 is not a keyword", "撤回的稿件仍然可以访问", false, "", ""},
		{"only the quoted notification names the keyword", "好的，收到" + quoted, false, "", ""},
		{"staff commands mean nothing from a complainant", "受理", false, "", ""},
		{"signature first", "发自我的iPhone\n申诉", false, "", ""},
		// Ways people write the keyword that did nothing (found in review): the
		// greeting on the keyword's line, the keyword in 【】 or [], a trailing ～.
		{"greeting on the keyword's line", "您好，撤回" + quoted, true, cases.Withdraw, ""},
		{"greeting and exclamation on the line", "工作人员你好！申诉：文章已删除但快照仍在", true, cases.Appeal, "文章已删除但快照仍在"},
		{"keyword in 【】", "【撤回】问题已解决" + quoted, true, cases.Withdraw, "问题已解决"},
		{"keyword in []", "[申诉] 理由见附件", true, cases.Appeal, "理由见附件"},
		{"trailing tilde", "撤回～", true, cases.Withdraw, ""},
		{"a greeting before a sentence is still a sentence", "您好，我不想撤回申请", false, "", ""},
	}
	for _, tc := range tests {
		a, reason, ok := ParseComplainantAction(tc.body)
		if ok != tc.ok || a != tc.a || reason != tc.reason {
			t.Errorf("%s: got (%q, %q, %v), want (%q, %q, %v)", tc.name, a, reason, ok, tc.a, tc.reason, tc.ok)
		}
	}
}

func TestCommandHelpNamesEveryStaffCommand(t *testing.T) {
	for _, loc := range []string{"zh-CN", "en"} {
		help := CommandHelp(loc)
		for _, a := range []cases.Action{cases.Accept, cases.Reject, cases.NeedMore, cases.Resolve, cases.Assign, cases.Note, cases.Close, cases.Reopen, cases.Escalate, cases.Downgrade, cases.NotifyAuthor} {
			if k := a.Keyword(loc); k == "" || !strings.Contains(help, k) {
				t.Errorf("CommandHelp(%s) lacks %s (keyword %q)", loc, a, k)
			}
		}
	}
}

// The word an error message tells people to write (cases.Action.Keyword) is one the
// parser understands, for staff commands and complainant keywords, in both languages.
func TestCanonicalKeywordsParse(t *testing.T) {
	for _, a := range cases.Actions() {
		for _, locale := range []string{"zh-CN", "en"} {
			w := a.Keyword(locale)
			if w == "" {
				if a.Typed() {
					t.Errorf("typed action %s has no %s keyword", a, locale)
				}
				continue
			}
			arg := ""
			switch a {
			case cases.Reject, cases.Resolve, cases.Note, cases.Appeal:
				arg = " 理由"
			case cases.NeedMore:
				arg = " 身份证"
			case cases.Assign:
				arg = " li@example.cn"
			case cases.NotifyAuthor:
				arg = " author@example.cn"
			}
			if a.ByComplainant() {
				if got, _, ok := ParseComplainantAction(w + arg); !ok || got != a {
					t.Errorf("%s keyword %q parses as %q, %v", a, w, got, ok)
				}
				continue
			}
			cmds, problems := ParseCommands(w + arg)
			if len(cmds) != 1 || cmds[0].Action != a {
				t.Errorf("%s keyword %q parses as %+v (%v)", a, w, cmds, problems)
			}
		}
	}
}
