package classify

import (
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
)

func TestClassifyName(t *testing.T) {
	tests := []struct {
		why  string
		name string
		kind cases.Kind
	}{
		// SPEC §2 table, typical names.
		{"table: 申请表", "删帖申请表.pdf", cases.ApplicationForm},
		{"table: 删帖申请", "删帖申请.jpg", cases.ApplicationForm},
		{"table: 投诉申请", "投诉申请.docx", cases.ApplicationForm},
		{"table: 身份证", "身份证.jpg", cases.IDCard},
		{"table: 身份证复印件", "张三身份证复印件.pdf", cases.IDCard},
		{"table: 经办人身份证", "经办人身份证.jpg", cases.IDCard},
		{"table: 营业执照", "营业执照副本.jpg", cases.BusinessLicense},
		{"table: 统一社会信用代码", "统一社会信用代码.png", cases.BusinessLicense},
		{"table: 工作证", "工作证.jpg", cases.WorkID},
		{"table: 工牌", "工牌.jpg", cases.WorkID},
		{"table: 撤稿函", "原发媒体撤稿函.pdf", cases.WithdrawalLetter},
		{"table: 说明函", "事件说明函.pdf", cases.ExplanationLetter},
		{"table: 情况说明", "情况说明.docx", cases.ExplanationLetter},
		{"table: 证明", "证明.pdf", cases.ReasonProof},
		{"table: 判决书", "民事判决书.pdf", cases.ReasonProof},
		{"table: 报警回执", "报警回执.jpg", cases.ReasonProof},
		{"table: 委托书", "委托书.jpg", cases.PowerOfAttorney},
		{"table: 授权委托", "授权委托.pdf", cases.PowerOfAttorney},
		{"table: 公证书", "公证书.pdf", cases.PowerOfAttorney},
		// Policy details: the more specific name wins.
		{"在职证明 is work_id, not 证明", "在职证明.pdf", cases.WorkID},
		{"委托人身份证 is id_card, not 委托", "委托人身份证.jpg", cases.IDCard},
		{"委托单位营业执照 is business_license", "委托单位营业执照.pdf", cases.BusinessLicense},
		{"委托公证书 is power_of_attorney", "委托公证书.pdf", cases.PowerOfAttorney},
		{"统一社会信用代码证书 is business_license, not a certificate of proof", "统一社会信用代码证书.pdf", cases.BusinessLicense},
		{"a bare 委托 is nothing", "委托.pdf", cases.Unclassified},
		{"委托材料 is nothing either", "委托材料.pdf", cases.Unclassified},
		// Traditional characters count the same.
		{"traditional 身份證", "身份證.jpg", cases.IDCard},
		{"traditional 營業執照", "營業執照.pdf", cases.BusinessLicense},
		{"traditional 說明函", "說明函.pdf", cases.ExplanationLetter},
		{"traditional 授權委託書", "授權委託書.pdf", cases.PowerOfAttorney},
		{"traditional 撤稿函", "撤稿函.pdf", cases.WithdrawalLetter},
		{"traditional 申請表", "申請表.pdf", cases.ApplicationForm},
		{"traditional 判決書", "法院判決書.pdf", cases.ReasonProof},
		// Names that say nothing are never guessed.
		{"camera name", "IMG_2031.jpg", cases.Unclassified},
		{"scanner name", "扫描件.pdf", cases.Unclassified},
		{"scanner name with a number", "扫描件001.pdf", cases.Unclassified},
		{"WeChat image", "微信图片_20260301093011.jpg", cases.Unclassified},
		{"mmexport", "mmexport1709251234567.jpg", cases.Unclassified},
		{"正面", "正面.jpg", cases.Unclassified},
		{"反面", "反面.jpg", cases.Unclassified},
		{"DSC camera name", "DSC_0012.JPG", cases.Unclassified},
		{"bare number", "1.jpg", cases.Unclassified},
		{"no name at all", "", cases.Unclassified},
		// A kind word next to a meaningless part still counts.
		{"身份证正面", "身份证正面.jpg", cases.IDCard},
		{"directory inside a zip", "材料/营业执照.jpg", cases.BusinessLicense},
		{"Windows path", `C:\扫描\撤稿函.pdf`, cases.WithdrawalLetter},
		{"English name", "business_license.pdf", cases.BusinessLicense},
		{"the folder name is not the file name", "身份证/IMG_0001.jpg", cases.Unclassified},
	}
	for _, c := range tests {
		kind, why := ClassifyName(c.name)
		if kind != c.kind {
			t.Errorf("%s: ClassifyName(%q) = %s (%s), want %s", c.why, c.name, kind, why, c.kind)
		}
		if why == "" {
			t.Errorf("%s: no why", c.why)
		}
		if kind != cases.Unclassified && !strings.Contains(why, "name contains") {
			t.Errorf("%s: why %q does not name the keyword", c.why, why)
		}
	}
}
