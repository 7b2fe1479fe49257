package classify

import (
	"strings"
	"testing"
)

func TestClassifyName(t *testing.T) {
	cases := []struct {
		why  string
		name string
		kind string
	}{
		// SPEC §2 table, typical names.
		{"table: 申请表", "删帖申请表.pdf", DocApplicationForm},
		{"table: 删帖申请", "删帖申请.jpg", DocApplicationForm},
		{"table: 投诉申请", "投诉申请.docx", DocApplicationForm},
		{"table: 身份证", "身份证.jpg", DocIDCard},
		{"table: 身份证复印件", "张三身份证复印件.pdf", DocIDCard},
		{"table: 经办人身份证", "经办人身份证.jpg", DocIDCard},
		{"table: 营业执照", "营业执照副本.jpg", DocBusinessLicense},
		{"table: 统一社会信用代码", "统一社会信用代码.png", DocBusinessLicense},
		{"table: 工作证", "工作证.jpg", DocWorkID},
		{"table: 工牌", "工牌.jpg", DocWorkID},
		{"table: 撤稿函", "原发媒体撤稿函.pdf", DocWithdrawalLetter},
		{"table: 说明函", "事件说明函.pdf", DocExplanationLetter},
		{"table: 情况说明", "情况说明.docx", DocExplanationLetter},
		{"table: 证明", "证明.pdf", DocReasonProof},
		{"table: 判决书", "民事判决书.pdf", DocReasonProof},
		{"table: 报警回执", "报警回执.jpg", DocReasonProof},
		{"table: 委托书", "委托书.jpg", DocPowerOfAttorney},
		{"table: 授权委托", "授权委托.pdf", DocPowerOfAttorney},
		{"table: 公证书", "公证书.pdf", DocPowerOfAttorney},
		// Policy details: the more specific name wins.
		{"在职证明 is work_id, not 证明", "在职证明.pdf", DocWorkID},
		{"委托人身份证 is id_card, not 委托", "委托人身份证.jpg", DocIDCard},
		{"委托单位营业执照 is business_license", "委托单位营业执照.pdf", DocBusinessLicense},
		{"委托公证书 is power_of_attorney", "委托公证书.pdf", DocPowerOfAttorney},
		{"统一社会信用代码证书 is business_license, not a certificate of proof", "统一社会信用代码证书.pdf", DocBusinessLicense},
		{"a bare 委托 is nothing", "委托.pdf", DocUnclassified},
		{"委托材料 is nothing either", "委托材料.pdf", DocUnclassified},
		// Traditional characters count the same.
		{"traditional 身份證", "身份證.jpg", DocIDCard},
		{"traditional 營業執照", "營業執照.pdf", DocBusinessLicense},
		{"traditional 說明函", "說明函.pdf", DocExplanationLetter},
		{"traditional 授權委託書", "授權委託書.pdf", DocPowerOfAttorney},
		{"traditional 撤稿函", "撤稿函.pdf", DocWithdrawalLetter},
		{"traditional 申請表", "申請表.pdf", DocApplicationForm},
		{"traditional 判決書", "法院判決書.pdf", DocReasonProof},
		// Names that say nothing are never guessed.
		{"camera name", "IMG_2031.jpg", DocUnclassified},
		{"scanner name", "扫描件.pdf", DocUnclassified},
		{"scanner name with a number", "扫描件001.pdf", DocUnclassified},
		{"WeChat image", "微信图片_20260301093011.jpg", DocUnclassified},
		{"mmexport", "mmexport1709251234567.jpg", DocUnclassified},
		{"正面", "正面.jpg", DocUnclassified},
		{"反面", "反面.jpg", DocUnclassified},
		{"DSC camera name", "DSC_0012.JPG", DocUnclassified},
		{"bare number", "1.jpg", DocUnclassified},
		{"no name at all", "", DocUnclassified},
		// A kind word next to a meaningless part still counts.
		{"身份证正面", "身份证正面.jpg", DocIDCard},
		{"directory inside a zip", "材料/营业执照.jpg", DocBusinessLicense},
		{"Windows path", `C:\扫描\撤稿函.pdf`, DocWithdrawalLetter},
		{"English name", "business_license.pdf", DocBusinessLicense},
		{"the folder name is not the file name", "身份证/IMG_0001.jpg", DocUnclassified},
	}
	for _, c := range cases {
		kind, why := ClassifyName(c.name)
		if kind != c.kind {
			t.Errorf("%s: ClassifyName(%q) = %s (%s), want %s", c.why, c.name, kind, why, c.kind)
		}
		if why == "" {
			t.Errorf("%s: no why", c.why)
		}
		if kind != DocUnclassified && !strings.Contains(why, "name contains") {
			t.Errorf("%s: why %q does not name the keyword", c.why, why)
		}
	}
}
