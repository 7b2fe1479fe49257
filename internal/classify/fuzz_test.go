package classify

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/pii"
)

func FuzzSubject(f *testing.F) {
	for _, s := range []string{
		"张三(蒙牛奶业集团)申请删除凤凰资讯稿件", "李四（北京某某（集团）有限公司）申请删除凤凰资讯稿件",
		"Re: [TS-2026-000123] 张三申请删除凤凰资讯稿件", "回复：转发：张 三（某某）申请删除凤凰网文章！", "((()))申请删除稿件",
		"陳大文申請刪除鳳凰資訊稿件", "申请删除申请删除稿件", "　", "a)申请删除x稿件", "\xff\xfe申请删除稿件",
		"北京某某律师事务所代王五申请删除凤凰娱乐稿件", "张三(某公司)申请删除《某某报道》稿件", "代代代申请删除《》", "甲(乙代丙)代丁(戊)申请删除《a《b》c》",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got cases.Subject
		mailtest.Cost(t, fuzzTime(len(s)), 1<<20+uint64(64*len(s)), func() { got = ParseSubject(s) })
		if got != ParseSubject(s) {
			t.Fatal("not deterministic")
		}
		if !got.Conforms {
			if got != (cases.Subject{}) {
				t.Fatalf("non-conforming subject carries data: %+v", got)
			}
			return
		}
		if got.Name == "" && got.Org == "" {
			t.Fatalf("conforming subject without name or org: %q", s)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(got.Name) || !utf8.ValidString(got.Org) || !utf8.ValidString(got.Channel)) {
			t.Fatalf("invalid UTF-8 out of valid input: %+v", got)
		}
		if !strings.Contains(fold(s), "申请删除") {
			t.Fatalf("conforms without 申请删除: %q", s)
		}
		// Issue 14: a number is never a name, an organisation or a channel, nor a title.
		sp := parseSubject(s)
		for _, v := range []string{got.Name, got.Org, got.Channel, sp.PrincipalName, sp.PrincipalOrg, sp.Title} {
			if pii.ContainsNumber(v) {
				t.Fatalf("a number in a subject part %q of %q", v, s)
			}
		}
	})
}

func FuzzFormFields(f *testing.F) {
	for _, s := range []string{
		"姓名：张三\n联系电话：138", "⏹文章标题：(必填完整标题)《某某》", "删除原因(详细说明):\na\nb\n此致",
		"1、姓名:张三  电话：1  联系邮箱：a@b", "文章标题\t某\t发表时间\t2026", "(((：", "：：：", "删除原因：\n\n\n",
		"姓名单位名称：宋佳/某某公司", "\t\t\t", "１、姓名：张", "删除原因:x\r\n联系电话:1\r\n",
		"委托人：王五，身份证号 310101198001010018，电话 13700001111", "姓名:13700001111,电话１３７００００１１１１", "删除原因：a\n\nb\n电话 13900001111",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fs Fields
		mailtest.Cost(t, fuzzTime(len(s)), 2<<20+uint64(128*len(s)), func() { fs = ParseFields(s) })
		for k, v := range fs.Values {
			if v == "" {
				t.Fatalf("empty value stored for %s", k)
			}
			if nameFields[k] && pii.ContainsNumber(v) {
				t.Fatalf("a number in the name field %s: %q", k, v)
			}
			if utf8.ValidString(s) && !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 value %q for %s", v, k)
			}
		}
		n := strings.Count(s, "\n") + 1
		for i := range fs.Lines {
			if i < 0 || i >= n {
				t.Fatalf("line index %d out of range %d", i, n)
			}
		}
		for i := range fs.ReasonLines {
			if !fs.Lines[i] {
				t.Fatalf("reason line %d not marked consumed", i)
			}
		}
	})
}

func FuzzZipNames(f *testing.F) {
	f.Add(buildZip(f, zipFile{name: "身份证.jpg", gbk: true, data: []byte("a")}, zipFile{name: "营业执照.pdf", data: []byte("b")}))
	f.Add(buildZip(f, zipFile{name: "__MACOSX/x", data: nil}, zipFile{name: "a/", data: nil}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte("not a zip"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var entries []ZipEntry
		var err error
		mailtest.Cost(t, fuzzTime(len(b)), 2<<20+uint64(64*len(b)), func() {
			entries, _, err = ListZip(bytes.NewReader(b), int64(len(b)), 50, 1<<20)
		})
		if err != nil {
			return
		}
		if len(entries) > 50 {
			t.Fatalf("%d entries over the bound", len(entries))
		}
		var total int64
		for _, e := range entries {
			if !utf8.ValidString(e.Name) || e.Name == "" {
				t.Fatalf("bad name %q", e.Name)
			}
			total += e.Size
			kind, why := ClassifyName(e.Name)
			if kind == "" || why == "" {
				t.Fatalf("no kind for %q", e.Name)
			}
		}
		if total > 1<<20 {
			t.Fatalf("total %d over the bound", total)
		}
	})
}

func FuzzDocx(f *testing.F) {
	f.Add(buildDocx(f, []string{"删帖申请表"}, []string{"姓名|张三", "删除原因|失实"}))
	f.Add(buildDocx(f, nil, nil))
	f.Add(buildZip(f, zipFile{name: "word/document.xml", data: []byte("<w:document><w:body><w:p><w:t>a")}))
	f.Add(buildZip(f, zipFile{name: "word/document.xml", data: []byte("<w:tc><w:tc></w:tr></w:tr><w:tab/><w:br/>")}))
	names := newNamer(cases.DefaultCatalogue())
	f.Fuzz(func(t *testing.T, b []byte) {
		const maxXML = 64 << 10
		// A resource bound, not only "no panic": reading at most 64 KB of XML may not
		// cost more than a few MB, whatever the bytes.
		var text string
		mailtest.Cost(t, fuzzTime(len(b)), 16<<20, func() { text, _ = DocxText(bytes.NewReader(b), int64(len(b)), maxXML) })
		if len(text) > maxXML {
			t.Fatalf("text %d bytes from at most %d bytes of XML", len(text), maxXML)
		}
		ParseFields(text)
		classifyText(names, text)
	})
}

// BenchmarkClassify: a realistic mail with a form body, a .docx form and a GBK zip.
func BenchmarkClassify(b *testing.B) {
	form := buildDocx(b, []string{"删帖申请表"}, []string{"姓名|周杰", "联系电话|13987654321", "身份证号|11010519491231002X", "文章标题|《某某》", "文章链接|https://news.ifeng.com/c/1", "删除原因|失实"})
	z := buildZip(b, zipFile{name: "身份证正面.jpg", gbk: true, data: []byte("a")}, zipFile{name: "删帖申请表.pdf", gbk: true, data: []byte("b")}, zipFile{name: "判决书.pdf", gbk: true, data: []byte("c")})
	op := &memOpener{files: map[string][]byte{"f": form, "z": z}}
	text := "凤凰网编辑您好：\n\n⏹姓名：张伟\n⏹联系电话：13911112222\n⏹身份证号：11010519491231002X\n⏹文章标题：《张某涉嫌诈骗被刑拘》\n⏹文章链接：https://news.ifeng.com/c/8XyZ1a2b3c\n⏹删除原因：该报道称本人涉嫌诈骗，\n但公安机关已撤销案件。\n\n此致\n敬礼\n\n------------------ 原始邮件 ------------------\n发件人: x\n" + strings.Repeat("引用的旧邮件内容。\n", 50)
	msg := msgWith("Re: [TS-2026-000123] 张伟（北京某某（集团）有限公司）申请删除凤凰资讯稿件", text,
		att("附件1.docx", "f", int64(len(form))), att("材料.zip", "z", int64(len(z))), att("IMG_2031.jpg", "i", 10), att("营业执照.jpg", "j", 10), att("撤稿函.pdf", "k", 10))
	b.ReportAllocs()
	for b.Loop() {
		Classify(msg, op, Options{})
	}
}

// fuzzTime is the time bound of one fuzz input of n bytes: a second, and a second
// more per 64 KB, enough for -race on a slow, loaded machine and far below what a
// quadratic path costs on the inputs the fuzzer grows.
func fuzzTime(n int) time.Duration { return time.Second + time.Duration(n>>16)*time.Second }
