package classify

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/complaintd/complaintd/internal/cases"
)

// nameKeyword gives a document kind to names containing Word.
type nameKeyword struct {
	Word     string // folded (simplified, lower-case)
	squeezed string // Word without spaces: "id card" also matches "idcard"
	Kind     cases.Kind
}

// namer classifies file names with the keywords of a document-kind catalogue.
type namer struct {
	keywords []nameKeyword // longest first; among equals, catalogue order
	fallback []nameKeyword // only when no keyword matched
}

// newNamer folds the catalogue's keywords once. When a name holds keywords of several
// kinds the longest keyword wins: the more specific name (在职证明 over 证明, 委托人身份证
// over 委托, 委托公证书 over 公证书); among keywords of one length, the earlier kind.
func newNamer(cat *cases.Catalogue) *namer {
	n := &namer{}
	for _, k := range cat.Kinds() {
		for _, w := range k.Keywords {
			n.keywords = append(n.keywords, nameKeyword{Word: fold(w), squeezed: squeeze(fold(w)), Kind: k.Code})
		}
		for _, w := range k.Fallback {
			n.fallback = append(n.fallback, nameKeyword{Word: fold(w), squeezed: squeeze(fold(w)), Kind: k.Code})
		}
	}
	byLength := func(a, b nameKeyword) int { return len([]rune(b.squeezed)) - len([]rune(a.squeezed)) }
	slices.SortStableFunc(n.keywords, byLength)
	slices.SortStableFunc(n.fallback, byLength)
	return n
}

func squeeze(s string) string { return strings.ReplaceAll(s, " ", "") }

// meaninglessRE matches names that say nothing about their content: camera and chat-app
// names, scanner output, bare numbers, 正面/反面. They are reported as such in Why.
var meaninglessRE = regexp.MustCompile(`^(img|dsc|dscn|dcim|pxl|photo|image|scan|mmexport|wechat|wx|qq|screenshot|微信图片|扫描件|扫描|图片|照片|截图|屏幕截图|正面|反面|附件|新建|未命名|文档|document|doc|file|未标题)?[\s_\-.()0-9a-f]*(正面|反面|副本|copy)?[\s_\-.()0-9]*$`)

// ClassifyName gives a document kind from a file name with the built-in catalogue.
func ClassifyName(filename string) (kind cases.Kind, why string) {
	return newNamer(cases.DefaultCatalogue()).classify(filename)
}

// nameSeparators become spaces in a file name's stem (built once, not per name).
var nameSeparators = strings.NewReplacer("_", " ", "-", " ")

// classify gives a document kind from a file name, and why. Names that match no
// keyword are cases.Unclassified, never guessed.
func (n *namer) classify(filename string) (kind cases.Kind, why string) {
	base := path.Base(strings.ReplaceAll(filename, "\\", "/"))
	stem := strings.TrimSuffix(base, path.Ext(base))
	f := squeeze(nameSeparators.Replace(fold(stem)))
	for _, list := range [][]nameKeyword{n.keywords, n.fallback} {
		for _, k := range list {
			if strings.Contains(f, k.squeezed) {
				return k.Kind, "name contains " + k.Word
			}
		}
	}
	if filename == "" {
		return cases.Unclassified, "no file name"
	}
	if meaninglessRE.MatchString(fold(stem)) {
		return cases.Unclassified, "name says nothing"
	}
	if strings.Contains(f, "委托") {
		return cases.Unclassified, "bare 委托 is not a power of attorney"
	}
	return cases.Unclassified, "no document keyword in name"
}
