package classify

import (
	"path"
	"regexp"
	"strings"
)

// nameKeyword gives a document kind to names containing Word. The table is ordered:
// the first keyword found wins, so more specific names come before the words they
// contain (在职证明 before 证明, 委托人身份证 before 委托, 委托公证书 before 公证书).
type nameKeyword struct {
	Word string // folded (simplified, lower-case) form
	Kind string
}

var nameKeywords = []nameKeyword{
	// Compound names whose parts belong to other kinds.
	{"在职证明", DocWorkID}, {"工作证明", DocWorkID}, {"任职证明", DocWorkID}, {"劳动合同", DocWorkID},
	{"委托人身份证", DocIDCard}, {"经办人身份证", DocIDCard}, {"受托人身份证", DocIDCard}, {"法人身份证", DocIDCard},
	{"委托单位营业执照", DocBusinessLicense}, {"统一社会信用代码", DocBusinessLicense}, {"信用代码证", DocBusinessLicense},
	{"委托公证书", DocPowerOfAttorney}, {"授权委托书", DocPowerOfAttorney}, {"委托公证", DocPowerOfAttorney},
	{"撤稿函", DocWithdrawalLetter}, {"撤稿说明", DocWithdrawalLetter}, {"撤稿证明", DocWithdrawalLetter}, {"撤稿", DocWithdrawalLetter},
	{"事件说明", DocExplanationLetter}, {"情况说明", DocExplanationLetter}, {"说明函", DocExplanationLetter},
	{"删帖申请", DocApplicationForm}, {"删除申请", DocApplicationForm}, {"投诉申请", DocApplicationForm}, {"申请表", DocApplicationForm},
	// Base names.
	{"身份证", DocIDCard}, {"居民身份", DocIDCard}, {"id card", DocIDCard}, {"idcard", DocIDCard},
	{"营业执照", DocBusinessLicense}, {"business licen", DocBusinessLicense},
	{"公证书", DocPowerOfAttorney}, {"委托书", DocPowerOfAttorney}, {"授权委托", DocPowerOfAttorney}, {"授权书", DocPowerOfAttorney}, {"power of attorney", DocPowerOfAttorney},
	{"工作证", DocWorkID}, {"工牌", DocWorkID}, {"员工证", DocWorkID}, {"胸卡", DocWorkID},
	{"判决书", DocReasonProof}, {"裁定书", DocReasonProof}, {"调解书", DocReasonProof}, {"报警回执", DocReasonProof}, {"立案回执", DocReasonProof},
	{"受案回执", DocReasonProof}, {"立案告知", DocReasonProof}, {"证明", DocReasonProof},
	// Generic: a file named after the request is the form.
	{"申请删除", DocApplicationForm}, {"删帖", DocApplicationForm},
}

// meaninglessRE matches names that say nothing about their content: camera and chat-app
// names, scanner output, bare numbers, 正面/反面. They are reported as such in Why.
var meaninglessRE = regexp.MustCompile(`^(img|dsc|dscn|dcim|pxl|photo|image|scan|mmexport|wechat|wx|qq|screenshot|微信图片|扫描件|扫描|图片|照片|截图|屏幕截图|正面|反面|附件|新建|未命名|文档|document|doc|file|未标题)?[\s_\-.()0-9a-f]*(正面|反面|副本|copy)?[\s_\-.()0-9]*$`)

// ClassifyName gives a document kind from a file name, and why. Names that match no
// keyword are DocUnclassified, never guessed.
func ClassifyName(filename string) (kind, why string) {
	base := path.Base(strings.ReplaceAll(filename, "\\", "/"))
	stem := strings.TrimSuffix(base, path.Ext(base))
	f := strings.NewReplacer("_", " ", "-", " ").Replace(fold(stem))
	for _, k := range nameKeywords {
		if strings.Contains(f, k.Word) || strings.Contains(strings.ReplaceAll(f, " ", ""), strings.ReplaceAll(k.Word, " ", "")) {
			return k.Kind, "name contains " + k.Word
		}
	}
	if filename == "" {
		return DocUnclassified, "no file name"
	}
	if meaninglessRE.MatchString(fold(stem)) {
		return DocUnclassified, "name says nothing"
	}
	if strings.Contains(f, "委托") {
		return DocUnclassified, "bare 委托 is not a power of attorney"
	}
	return DocUnclassified, "no document keyword in name"
}
