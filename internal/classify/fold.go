package classify

import "strings"

// trad maps the traditional characters that occur in field names, document names and
// content words to their simplified forms, so 身份證 and 身份证 match the same keyword.
// It covers the vocabulary this package matches on, not Chinese at large.
var trad = map[rune]rune{
	'證': '证', '標': '标', '鏈': '链', '選': '选', '數': '数', '樣': '样', '詳': '详', '細': '细', '響': '响', '損': '损', '輿': '舆', '論': '论', '權': '权', '資': '资', '條': '条', '儀': '仪', '復': '复', '規': '规', '範': '范', '檔': '档', '邊': '边', '寫': '写', '執': '执', '營': '营', '業': '业', '說': '说', '託': '托', '書': '书',
	'請': '请', '刪': '删', '訴': '诉', '經': '经', '辦': '办', '況': '况', '決': '决', '報': '报',
	'統': '统', '會': '会', '碼': '码', '職': '职', '貼': '贴', '單': '单', '體': '体', '聞': '闻',
	'訊': '讯', '評': '评', '轉': '转', '載': '载', '來': '来', '網': '网', '師': '师',
	'務': '务', '複': '复', '掃': '扫', '圖': '图', '鳳': '凤', '號': '号', '稱': '称', '電': '电',
	'話': '话', '郵': '邮', '題': '题', '連': '连', '結': '结', '發': '发', '間': '间', '時': '时',
	'員': '员', '頁': '页', '簽': '签', '蓋': '盖', '聯': '联', '繫': '系', '據': '据', '紀': '纪',
	'錄': '录', '處': '处', '實': '实', '內': '内', '聲': '声', '為': '为', '這': '这', '對': '对',
	'於': '于', '與': '与', '個': '个', '們': '们', '關': '关', '係': '系', '屬': '属', '親': '亲',
	'應': '应', '傳': '传', '狀': '状', '歷': '历', '貴': '贵', '誹': '诽', '謗': '谤', '學': '学',
	'僅': '仅', '團': '团', '華': '华', '區': '区', '門': '门', '機': '机', '構': '构', '產': '产',
	'責': '责', '廳': '厅', '總': '总', '級': '级', '雜': '杂', '視': '视',
	'臺': '台', '台': '台', '灣': '湾', '裡': '里', '裁': '裁', '囑': '嘱', '詢': '询',
	'稿': '稿', '撤': '撤', '箱': '箱', '點': '点', '幫': '帮', '攝': '摄',
	'壞': '坏', '負': '负', '面': '面', '誤': '误', '導': '导', '擾': '扰', '騷': '骚', '識': '识',
	'別': '别', '簡': '简', '訪': '访', '絡': '络', '頭': '头', '筆': '笔', '補': '补', '充': '充',
	'開': '开', '戶': '户', '頻': '频', '見': '见', '約': '约', '聘': '聘', '陳': '陈',
	'黃': '黄', '劉': '刘', '張': '张', '趙': '赵', '吳': '吴', '鄭': '郑', '韓': '韩', '馮': '冯',
	'蔣': '蒋', '沈': '沈', '楊': '杨', '謝': '谢', '鄧': '邓', '許': '许', '蕭': '萧', '羅': '罗',
	'葉': '叶', '鍾': '钟', '盧': '卢', '蘇': '苏', '錢': '钱', '孫': '孙', '鄒': '邹', '龍': '龙',
	'萬': '万', '東': '东', '陽': '阳', '興': '兴', '國': '国', '際': '际', '貿': '贸', '易': '易',
	'記': '记', '者': '者', '線': '线', '維': '维', '護': '护', '爭': '争', '議': '议', '則': '则',
	'聽': '听', '讓': '让', '歸': '归', '類': '类', '觀': '观', '帳': '帐', '賬': '账',
	'戲': '戏', '劇': '剧', '廣': '广', '場': '场', '醫': '医', '療': '疗',
	'駕': '驾', '駛': '驶', '車': '车', '輛': '辆', '鎮': '镇', '縣': '县', '鄉': '乡',
	'麗': '丽', '鳥': '鸟', '島': '岛', '嶼': '屿',
}

// foldRune maps one rune to the form this package matches on: full-width ASCII to ASCII,
// the ideographic space to a space, traditional to simplified, ASCII upper to lower case.
// It maps one rune to one rune, so indexes into the folded rune slice are indexes into
// the original.
func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	case r == 0x3000 || r == 0x00A0:
		return ' '
	case r == '【' || r == '〔' || r == '［':
		return '['
	case r == '】' || r == '〕' || r == '］':
		return ']'
	case r == '﹕' || r == '︰':
		return ':'
	}
	if s, ok := trad[r]; ok {
		return s
	}
	if r >= 'A' && r <= 'Z' {
		r += 'a' - 'A'
	}
	return r
}

// fold returns s with every rune folded by foldRune.
func fold(s string) string {
	return strings.Map(foldRune, s)
}

// foldRunes returns the folded runes of s, index-aligned with []rune(s).
func foldRunes(rs []rune) []rune {
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[i] = foldRune(r)
	}
	return out
}

// containsAny returns the first of words contained in s, or "".
func containsAny(s string, words ...string) string {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}
