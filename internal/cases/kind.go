// SPDX-License-Identifier: MIT

package cases

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Kind is a document kind code (SPEC §2 table). The codes are part of the external
// interface; admins may add kinds of their own in the config (policy.document_kinds).
type Kind string

// The document kinds of SPEC §2, and the code of a file no kind fits.
const (
	ApplicationForm   Kind = "application_form"
	IDCard            Kind = "id_card"
	BusinessLicense   Kind = "business_license"
	WorkID            Kind = "work_id"
	WithdrawalLetter  Kind = "withdrawal_letter"
	ExplanationLetter Kind = "explanation_letter"
	ReasonProof       Kind = "reason_proof"
	PowerOfAttorney   Kind = "power_of_attorney"
	// LawyerLetter is a 律师函 a complainant encloses. Not in SPEC §2's table and
	// demanded by no default rule: it is recognised so that it is not "unclassified"
	// (issue 14) — the same word already makes a case major (routing's lawyer_letter).
	LawyerLetter Kind = "lawyer_letter"
	// Unclassified is a file whose name says nothing a kind recognises; staff settle it.
	Unclassified Kind = "unclassified"
)

// KindInfo is everything any part of the desk needs to know about one document kind:
// classify reads Keywords, desk reads Synonyms, policy and render read the labels and
// explanations, the vault reads Sensitive. Adding a kind means adding one KindInfo.
type KindInfo struct {
	Code    Kind   `yaml:"code" json:"code"`
	LabelZH string `yaml:"label_zh" json:"label_zh"` // short name for staff mails, reports, the CLI
	LabelEN string `yaml:"label_en" json:"label_en"`
	// ExplainZH and ExplainEN tell a complainant what to send (the missing-items
	// reply). Empty: the label.
	ExplainZH string `yaml:"explain_zh,omitempty" json:"explain_zh,omitempty"`
	ExplainEN string `yaml:"explain_en,omitempty" json:"explain_en,omitempty"`
	// Keywords give the kind to a file whose name contains one (compared folded:
	// simplified, lower-case). When names match keywords of several kinds the longest
	// keyword wins (在职证明 over 证明), then the earlier kind.
	Keywords []string `yaml:"keywords" json:"keywords"`
	// Fallback keywords count only when no keyword of any kind matched (删帖: a file
	// named after the request is the form, unless its name says more).
	Fallback []string `yaml:"fallback_keywords,omitempty" json:"fallback_keywords,omitempty"`
	// Synonyms are words staff write after 补充 for this kind, besides the code and
	// the labels (身份证复印件, 公证书).
	Synonyms []string `yaml:"synonyms,omitempty" json:"synonyms,omitempty"`
	// Sensitive kinds carry personal data (ID numbers, seals): they are sealed under
	// the case's sensitive key, which retention destroys.
	Sensitive bool `yaml:"sensitive,omitempty" json:"sensitive,omitempty"`
}

// Label is the short name in locale.
func (k KindInfo) Label(locale string) string {
	if isEnglish(locale) {
		return k.LabelEN
	}
	return k.LabelZH
}

// Explain is what a complainant is told to send, in locale.
func (k KindInfo) Explain(locale string) string {
	zh, en := k.ExplainZH, k.ExplainEN
	if zh == "" {
		zh = k.LabelZH
	}
	if en == "" {
		en = k.LabelEN
	}
	if isEnglish(locale) {
		return en
	}
	return zh
}

// Catalogue is the set of document kinds the desk knows, in display order. It is
// read-only once built.
type Catalogue struct {
	kinds []KindInfo
}

// codeRE is the shape of a kind code: it becomes a config value, a JSON value and a
// word staff may type after 补充.
var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// NewCatalogue is the built-in kinds followed by extra (the admins' own). Every
// problem is reported, each naming the entry.
func NewCatalogue(extra []KindInfo) (*Catalogue, error) {
	c := &Catalogue{kinds: defaultKinds()}
	var errs []error
	for i, k := range extra {
		where := fmt.Sprintf("[%d]", i)
		if k.Code != "" {
			where += " (" + string(k.Code) + ")"
		}
		switch {
		case !codeRE.MatchString(string(k.Code)):
			errs = append(errs, fmt.Errorf("%s.code: %q must be lower-case letters, digits and _ (2–40)", where, k.Code))
		case k.Code == Unclassified || c.Known(k.Code):
			errs = append(errs, fmt.Errorf("%s.code: %q is already a document kind", where, k.Code))
		}
		if k.LabelZH == "" || k.LabelEN == "" {
			errs = append(errs, fmt.Errorf("%s: label_zh and label_en are required", where))
		}
		if len(k.Keywords) == 0 && len(k.Fallback) == 0 {
			errs = append(errs, fmt.Errorf("%s.keywords: at least one file-name keyword is required", where))
		}
		for _, w := range append(slices.Clone(k.Keywords), k.Fallback...) {
			if w == "" {
				errs = append(errs, fmt.Errorf("%s.keywords: empty keyword", where))
			}
		}
		if len(errs) == 0 {
			c.kinds = append(c.kinds, k)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// DefaultCatalogue is the built-in kinds only.
func DefaultCatalogue() *Catalogue { return &Catalogue{kinds: defaultKinds()} }

// Kinds returns the kinds in display order (a fresh slice; Unclassified is not one).
func (c *Catalogue) Kinds() []KindInfo { return slices.Clone(c.kinds) }

// Codes returns the kind codes in display order.
func (c *Catalogue) Codes() []Kind {
	out := make([]Kind, len(c.kinds))
	for i, k := range c.kinds {
		out[i] = k.Code
	}
	return out
}

// Lookup returns the kind with code k.
func (c *Catalogue) Lookup(k Kind) (KindInfo, bool) {
	for _, info := range c.kinds {
		if info.Code == k {
			return info, true
		}
	}
	if k == Unclassified {
		return unclassifiedInfo(), true
	}
	return KindInfo{}, false
}

// Known reports whether k is a kind of the catalogue (Unclassified is not).
func (c *Catalogue) Known(k Kind) bool {
	_, ok := c.Lookup(k)
	return ok && k != Unclassified
}

// Label is the short name of k in locale; an unknown code is returned as is.
func (c *Catalogue) Label(k Kind, locale string) string {
	if info, ok := c.Lookup(k); ok {
		return info.Label(locale)
	}
	return string(k)
}

// Explain is what a complainant is told to send for k; an unknown code is returned as is.
func (c *Catalogue) Explain(k Kind, locale string) string {
	if info, ok := c.Lookup(k); ok {
		return info.Explain(locale)
	}
	return string(k)
}

// Sensitive reports whether documents of kind k carry personal data by default.
func (c *Catalogue) Sensitive(k Kind) bool {
	info, ok := c.Lookup(k)
	return ok && info.Sensitive
}

func unclassifiedInfo() KindInfo {
	return KindInfo{Code: Unclassified, LabelZH: "未识别的文件", LabelEN: "unrecognised file",
		// An unnamed scan is as likely an ID card as anything else.
		Sensitive: true}
}

// defaultKinds is the document table of SPEC §2, in display order, with the words
// people use for each, and the 律师函 (recognised, required by no default rule).
func defaultKinds() []KindInfo {
	return []KindInfo{
		{Code: ApplicationForm, LabelZH: "申请表（签字/盖章）", LabelEN: "application form (signed/sealed)",
			ExplainZH: "删帖申请表（签字或盖章）：填写完整并由申请人亲笔签字、或加盖单位公章后的扫描件或照片",
			ExplainEN: "Application form (signed or sealed): the completed takedown form, signed by the applicant or stamped with the organisation's seal, scanned or photographed",
			Keywords:  []string{"删帖申请", "删除申请", "投诉申请", "申请表"},
			Fallback:  []string{"申请删除", "删帖"},
			Synonyms:  []string{"申请表", "删帖申请表", "投诉申请表", "申请书", "申請表"},
			// The filled form carries the ID number.
			Sensitive: true},
		{Code: IDCard, LabelZH: "身份证复印件", LabelEN: "copy of ID card",
			ExplainZH: "身份证复印件（正反面）：个人申请人本人、或单位经办人的身份证件",
			ExplainEN: "Copy of the ID card (both sides): the individual applicant's own, or the ID of the organisation's agent who handles the request",
			Keywords:  []string{"委托人身份证", "经办人身份证", "受托人身份证", "法人身份证", "身份证", "居民身份", "id card", "idcard"},
			Synonyms:  []string{"身份证", "身份证复印件", "身份证件", "经办人身份证", "委托人身份证", "身份證"},
			Sensitive: true},
		{Code: BusinessLicense, LabelZH: "营业执照", LabelEN: "business licence",
			ExplainZH: "营业执照（或统一社会信用代码证书）复印件，加盖单位公章",
			ExplainEN: "Business licence (or unified social credit code certificate), copy stamped with the organisation's seal",
			Keywords:  []string{"委托单位营业执照", "统一社会信用代码", "信用代码证", "营业执照", "business licen"},
			Synonyms:  []string{"营业执照", "统一社会信用代码证", "统一社会信用代码证书", "營業執照"},
			Sensitive: true},
		{Code: WorkID, LabelZH: "工作证", LabelEN: "staff card",
			ExplainZH: "经办人工作证（或在职证明）：证明经办人受雇于申请单位",
			ExplainEN: "Agent's staff card (or certificate of employment) showing the agent works for the applying organisation",
			Keywords:  []string{"在职证明", "工作证明", "任职证明", "劳动合同", "工作证", "工牌", "员工证", "胸卡"},
			Synonyms:  []string{"工作证", "在职证明", "工牌", "工作證", "在職證明"}},
		{Code: WithdrawalLetter, LabelZH: "原发媒体撤稿函", LabelEN: "withdrawal letter from the original publisher",
			ExplainZH: "原发媒体撤稿函：由原发媒体（或被转载网站、原创首发网站）出具并加盖公章",
			ExplainEN: "Withdrawal letter from the original publisher (or the site the article was reposted from), stamped with its seal",
			Keywords:  []string{"撤稿函", "撤稿说明", "撤稿证明", "撤稿"},
			Synonyms:  []string{"撤稿函", "原发媒体撤稿函"}},
		{Code: ExplanationLetter, LabelZH: "事件说明函", LabelEN: "explanation letter",
			ExplainZH: "事件说明函：针对要求删除的内容逐一说明事实情况",
			ExplainEN: "Explanation letter: a point-by-point account of the facts behind each item you ask us to remove",
			Keywords:  []string{"事件说明", "情况说明", "说明函"},
			Synonyms:  []string{"说明函", "情况说明", "事件说明函", "說明函", "情況說明"}},
		{Code: ReasonProof, LabelZH: "删除原因证明", LabelEN: "proof of the reason for removal",
			ExplainZH: "删除原因证明：证明删除理由的材料，如法院判决书、报警回执、相关部门出具的证明",
			ExplainEN: "Proof of the reason for removal, e.g. a court judgment, a police report receipt, or a certificate from the relevant authority",
			Keywords:  []string{"判决书", "裁定书", "调解书", "报警回执", "立案回执", "受案回执", "立案告知", "证明"},
			Synonyms:  []string{"证明", "删除原因证明", "證明"}},
		{Code: PowerOfAttorney, LabelZH: "委托公证证明", LabelEN: "notarised power of attorney",
			ExplainZH: "委托公证证明：经公证的授权委托书（委托他人或律师事务所代为申请时提供）",
			ExplainEN: "Notarised power of attorney (when a lawyer, law firm or other person applies on someone's behalf)",
			Keywords:  []string{"委托公证书", "授权委托书", "委托公证", "公证书", "委托书", "授权委托", "授权书", "power of attorney"},
			Synonyms:  []string{"委托书", "公证书", "授权委托书", "委托公证证明", "委托公证书", "授權委託書", "委託書", "公證書"},
			Sensitive: true},
		{Code: LawyerLetter, LabelZH: "律师函", LabelEN: "lawyer's letter",
			ExplainZH: "律师函：律师事务所就所涉稿件出具的律师函",
			ExplainEN: "Lawyer's letter: the letter a law firm issued about the article",
			Keywords:  []string{"律师函", "lawyer's letter", "lawyer letter", "lawyers letter"},
			Synonyms:  []string{"律师函", "律師函"}},
	}
}

// JoinKinds writes kind codes separated by sep, for tables and CSV cells.
func JoinKinds(ks []Kind, sep string) string {
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(k))
	}
	return b.String()
}
