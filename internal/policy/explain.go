package policy

// docLabel is the shared wording for one document kind.
type docLabel struct {
	code string
	zh   string
	en   string
}

// labels is the document kind table of SPEC §2, in display order.
var labels = [...]docLabel{
	{"application_form", "删帖申请表（签字或盖章）：填写完整并由申请人亲笔签字、或加盖单位公章后的扫描件或照片",
		"Application form (signed or sealed): the completed takedown form, signed by the applicant or stamped with the organisation's seal, scanned or photographed"},
	{"id_card", "身份证复印件（正反面）：个人申请人本人、或单位经办人的身份证件",
		"Copy of the ID card (both sides): the individual applicant's own, or the ID of the organisation's agent who handles the request"},
	{"business_license", "营业执照（或统一社会信用代码证书）复印件，加盖单位公章",
		"Business licence (or unified social credit code certificate), copy stamped with the organisation's seal"},
	{"work_id", "经办人工作证（或在职证明）：证明经办人受雇于申请单位",
		"Agent's staff card (or certificate of employment) showing the agent works for the applying organisation"},
	{"withdrawal_letter", "原发媒体撤稿函：由原发媒体（或被转载网站、原创首发网站）出具并加盖公章",
		"Withdrawal letter from the original publisher (or the site the article was reposted from), stamped with its seal"},
	{"explanation_letter", "事件说明函：针对要求删除的内容逐一说明事实情况",
		"Explanation letter: a point-by-point account of the facts behind each item you ask us to remove"},
	{"reason_proof", "删除原因证明：证明删除理由的材料，如法院判决书、报警回执、相关部门出具的证明",
		"Proof of the reason for removal, e.g. a court judgment, a police report receipt, or a certificate from the relevant authority"},
	{"power_of_attorney", "委托公证证明：经公证的授权委托书（委托他人或律师事务所代为申请时提供）",
		"Notarised power of attorney (when a lawyer, law firm or other person applies on someone's behalf)"},
}

// DocumentKinds returns the document kind codes of SPEC §2 in display order.
func DocumentKinds() []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = l.code
	}
	return out
}

// Explain returns the complainant-facing explanation of a document kind for the
// missing-items reply. Locales starting with "en" get English; anything else gets
// Simplified Chinese (the desk's default locale zh-CN). An unknown code is returned as is.
func Explain(code, locale string) string {
	for _, l := range labels {
		if l.code != code {
			continue
		}
		if len(locale) >= 2 && (locale[:2] == "en" || locale[:2] == "EN") {
			return l.en
		}
		return l.zh
	}
	return code
}
