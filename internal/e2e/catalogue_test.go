package e2e

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// lawyerLicencePolicy adds a document kind purely in the config — no code knows
// lawyer_licence — and requires it of entrusted requests on top of SPEC §2's rules.
const lawyerLicencePolicy = `policy:
  document_kinds:
    - code: lawyer_licence
      label_zh: 律师执业证
      label_en: lawyer's practising certificate
      explain_zh: 代理律师的律师执业证复印件（加盖律所公章）
      explain_en: a copy of the representing lawyer's practising certificate
      keywords: [律师执业证]
      synonyms: [执业证]
      sensitive: true
  documents:
    - name: every_request
      require: [application_form, explanation_letter]
    - name: individual
      when: [{applicant: individual}]
      require: [id_card, reason_proof]
    - name: organisation
      when: [{applicant: organisation}]
      require: [business_license, id_card, work_id]
    - name: entrusted
      when: [{entrusted: true}]
      require: [power_of_attorney, lawyer_licence]
    - name: news_or_reposted
      when: [{content_kind: [news]}, {reposted: true}]
      require: [withdrawal_letter]
`

// An admin adds a document kind in the config only: a file named after it is
// classified as it, the policy requires it, the missing-items reply explains it in the
// admin's words, the follow-up that brings it completes the case, and staff can ask for
// it again with 补充 and the admin's synonym.
func TestDocumentKindAddedInConfig(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.cfgPath, append(cfg, lawyerLicencePolicy...), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()

	files := map[string]string{"删帖申请表.pdf": "%PDF form", "事件说明函.pdf": "%PDF expl", "委托人身份证.jpg": "JPEG id",
		"法院判决书.pdf": "%PDF proof", "授权委托书.pdf": "%PDF poa", "原发媒体撤稿函.pdf": "%PDF withdrawal"}
	st.Deliver(t, complaint("钱律师 <alice@people.test>", "kind1@people.test", "钱律师(北京某某律师事务所)申请删除凤凰资讯稿件",
		"本所受王五委托申请删除。\n文章标题：《某地某事》\n删除原因：报道失实。", files), "alice@people.test", "desk@desk.test")
	ack, ackText := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	c := caseOf(t, d, id)
	if c.State != cases.Incomplete || !slices.Equal(c.Missing, []cases.Kind{"lawyer_licence"}) {
		t.Fatalf("entrusted case without the licence: state %s, missing %v (want only lawyer_licence)", c.State, c.Missing)
	}
	if !strings.Contains(ackText, "代理律师的律师执业证复印件（加盖律所公章）") {
		t.Errorf("the acknowledgement does not explain the admin's kind:\n%s", ackText)
	}

	// The follow-up brings it: classified by its file name, the case is complete.
	st.Deliver(t, complaint("钱律师 <alice@people.test>", "kind2@people.test", "回复：["+id+"] 补交材料", "附上律师执业证。",
		map[string]string{"张律师律师执业证.jpg": "JPEG licence"}), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "editor", 1)
	c = caseOf(t, d, id)
	i := slices.IndexFunc(c.Documents, func(doc cases.Document) bool { return doc.Filename == "张律师律师执业证.jpg" })
	if i < 0 || c.Documents[i].Kind != "lawyer_licence" {
		t.Fatalf("the licence file is not classified as lawyer_licence: %+v", c.Documents)
	}
	if c.State != cases.PendingReview || len(c.Missing) != 0 {
		t.Fatalf("with the licence: state %s, missing %v", c.State, c.Missing)
	}

	// Staff ask for it again with the admin's synonym.
	st.Deliver(t, staffReply(note, "editor@desk.test", "补充 执业证"), "editor@desk.test", note.Header.Get("Reply-To"))
	_, moreText := nth(t, st, "alice", 3)
	nth(t, st, "editor", 2) // the confirmation
	c = caseOf(t, d, id)
	if c.State != cases.Incomplete || !slices.Contains(c.Requested, "lawyer_licence") || !slices.Contains(c.Missing, "lawyer_licence") {
		t.Errorf("after 补充 执业证: state %s, requested %v, missing %v", c.State, c.Requested, c.Missing)
	}
	if !strings.Contains(moreText, "代理律师的律师执业证复印件") {
		t.Errorf("the more-needed mail does not explain the kind:\n%s", moreText)
	}
}
