package mailmsg

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// overrideCharset maps the labels whose usual decoder would lose text to the decoder
// the desk uses. Chinese senders label GBK and GB18030 text "gb2312", so every GB
// label is read as GB18030, the superset (SPEC §2 "Charsets").
func overrideCharset(label string) encoding.Encoding {
	switch label {
	case "gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "gb_2312-80", "gb_2312",
		"euc-cn", "x-euc-cn", "csgb2312", "chinese", "iso-ir-58", "gb18030", "csgb231280":
		return simplifiedchinese.GB18030
	case "big5", "x-big5", "big-5", "cn-big5", "csbig5", "cp950", "big5-hkscs":
		return traditionalchinese.Big5
	case "ks_c_5601-1987", "ks_c_5601", "ks_c_5601-1989", "ksc5601", "ksc_5601", "cp949",
		"euc-kr", "windows-949", "csksc56011987":
		return korean.EUCKR
	case "utf-8", "utf8", "x-utf_8j", "unicode-1-1-utf-8":
		return unicode.UTF8
	case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "csascii":
		// Treated as UTF-8: valid ASCII is valid UTF-8, and 8-bit bytes under an
		// us-ascii label are handled by detection before we get here.
		return unicode.UTF8
	}
	return nil
}

// normLabel lower-cases a charset label and drops quotes, whitespace and an RFC 2231
// language suffix ("utf-8*en").
func normLabel(label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), "\"'"))
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	return label
}

// decodeCharset converts b from the labelled charset to valid UTF-8. known is false
// when the label is unknown; the bytes are then decoded by guessing (see decodeRaw).
func decodeCharset(label string, b []byte) (s string, known bool) {
	label = normLabel(label)
	if label == "" {
		return decodeRaw(b), true
	}
	if !isWideCharset(label) && utf8Wide(b) {
		// UTF-8 under another label: Outlook Express and the web forms that write
		// "=?GB2312?B?" + base64(UTF-8) label it so in encoded words and RFC 2231
		// names as in bodies. Read as GB18030 张三 became 寮犱笁.
		return string(b), true
	}
	if enc := overrideCharset(label); enc != nil {
		if enc == unicode.UTF8 {
			if utf8.Valid(b) {
				return string(b), true
			}
			return decodeRaw(b), true
		}
		return decodeWith(enc, b), true
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		return decodeRaw(b), false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		// A decoder error mid-way: keep what was decoded and best-effort the rest.
		return strings.ToValidUTF8(string(out), "\uFFFD"), true
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), true
}

// knownCharset reports whether decodeCharset has a decoder for label.
func knownCharset(label string) bool {
	label = normLabel(label)
	if label == "" || overrideCharset(label) != nil {
		return true
	}
	_, err := charset.Reader(label, bytes.NewReader(nil))
	return err == nil
}

func decodeWith(enc encoding.Encoding, b []byte) string {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// decodeRaw decodes bytes of unknown charset: 8-bit header bytes, bodies labelled
// us-ascii or not at all, values under an unknown label.
//
// Rule: valid UTF-8 stays UTF-8. Otherwise the bytes are decoded as GB18030 and as
// Big5 and the reading with the lower rareScore wins (GB18030 on a tie, the portal is
// mainland Chinese).
func decodeRaw(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	good, bad, adjacent := utf8Stats(b)
	if good >= 2 && bad*4 <= good {
		// UTF-8 with a stray broken byte: GBK text is never this close to UTF-8
		// (only about one GBK pair in ten happens to form a UTF-8 sequence).
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	if !adjacent {
		// Lone 8-bit bytes between ASCII (Frösche, café): Latin-1, not CJK, whose
		// characters are always two bytes >= 0x80 in a row somewhere.
		return decodeWith(charmap.Windows1252, b)
	}
	if rareScoreBig5(b) < rareScoreGB(b) {
		return decodeWith(traditionalchinese.Big5, b)
	}
	return decodeWith(simplifiedchinese.GB18030, b)
}

// rareScoreGB counts byte pairs that, read as GBK, fall outside GB2312 (the 6,763
// common characters: lead and trail byte both 0xA1-0xFE) plus invalid pairs.
// Big5 text read as GBK lands outside GB2312 about half the time (Big5 trail bytes
// 0x40-0x7E), GB2312 text never does.
func rareScoreGB(b []byte) int {
	score := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		if i+1 >= len(b) || c == 0x80 || c == 0xFF {
			score += 3
			continue
		}
		t := b[i+1]
		switch {
		case t >= 0x30 && t <= 0x39: // four-byte GB18030 sequence: rare in mail
			score += 2
			i += 3
			continue
		case t < 0x40 || t == 0x7F || t == 0xFF:
			score += 3
		case c < 0xA1 || t < 0xA1:
			score++
		}
		i++
	}
	return score
}

// rareScoreBig5 counts byte pairs that, read as Big5, are invalid or fall in the
// "less frequently used" block (lead byte 0xC6 and above). GB2312 text read as Big5
// lands there most of the time; real Big5 text mostly uses the frequent block
// 0xA4-0xC5.
func rareScoreBig5(b []byte) int {
	score := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		if i+1 >= len(b) || c < 0xA1 || c > 0xF9 {
			score += 3
			continue
		}
		t := b[i+1]
		switch {
		case !(t >= 0x40 && t <= 0x7E) && !(t >= 0xA1 && t <= 0xFE):
			score += 3
		case c >= 0xC6:
			score++
		}
		i++
	}
	return score
}

// utf8Stats counts valid multi-byte UTF-8 sequences and invalid bytes in b, and
// reports whether two bytes >= 0x80 ever stand next to each other.
func utf8Stats(b []byte) (good, bad int, adjacent bool) {
	for i := 0; i < len(b); {
		if b[i] < 0x80 {
			i++
			continue
		}
		if i+1 < len(b) && b[i+1] >= 0x80 {
			adjacent = true
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			bad++
			i++
			continue
		}
		good++
		i += n
	}
	return good, bad, adjacent
}

// utf8Wide reports whether b is valid UTF-8 holding a character of three bytes or
// more (CJK among them). GBK, Big5 or Latin-1 text almost never is: lone GB2312 pairs
// can be valid two-byte UTF-8 (C4 A3), but a three-byte sequence needs a lead E0-EF
// and two bytes 80-BF, and the rest of the string valid as well.
func utf8Wide(b []byte) bool {
	wide := false
	for i := 0; i < len(b); {
		if b[i] < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		wide = wide || n >= 3
		i += n
	}
	return wide
}

// hasHighBytes reports whether b has any byte >= 0x80.
func hasHighBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// decodeBody turns raw body bytes into UTF-8. label is the declared (or inherited)
// charset. The bytes overrule the label where they clearly disagree: valid UTF-8 with
// 8-bit bytes is UTF-8 whatever the label says (Outlook Express labels UTF-8 "gb2312");
// 8-bit bytes under a us-ascii label or no label are guessed (decodeRaw).
// problem is non-empty when the label was overruled or unknown.
func decodeBody(label string, b []byte) (s string, problem string) {
	label = normLabel(label)
	switch label {
	case "utf-7", "unicode-1-1-utf-7", "csunicode11utf7", "x-unicode-2-0-utf-7":
		return decodeUTF7(b), ""
	}
	if !knownCharset(label) {
		return decodeRaw(b), "unknown charset " + strings.ToValidUTF8(label, "?")
	}
	if !hasHighBytes(b) && !isWideCharset(label) && !strings.HasPrefix(label, "iso-2022") && label != "hz-gb-2312" {
		return string(b), ""
	}
	if !isWideCharset(label) && label != "utf-8" && hasHighBytes(b) && utf8.Valid(b) {
		if label == "" || label == "us-ascii" {
			return string(b), ""
		}
		return string(b), "body labelled " + label + " is UTF-8"
	}
	switch label {
	case "", "us-ascii", "ascii":
		return decodeRaw(b), ""
	}
	s, known := decodeCharset(label, b)
	if !known {
		return s, "unknown charset " + strings.ToValidUTF8(label, "?")
	}
	return s, ""
}

// isWideCharset reports labels whose text is not ASCII-compatible.
func isWideCharset(label string) bool {
	return strings.HasPrefix(label, "utf-16") || strings.HasPrefix(label, "utf-32") ||
		label == "ucs-2" || label == "unicode"
}

// decodeUTF7 decodes UTF-7 (RFC 2152), which x/text lacks; Netscape 4 sent it.
// Malformed shifts are kept as they are.
func decodeUTF7(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != '+' {
			out.WriteByte(b[i])
			continue
		}
		j := i + 1
		for j < len(b) && b64val(b[j]) != 0xFF {
			j++
		}
		if j == i+1 { // "+-" is a literal plus
			out.WriteByte('+')
			if j < len(b) && b[j] == '-' {
				i = j
			}
			continue
		}
		raw, _ := decodeBase64(b[i+1 : j])
		u16 := make([]uint16, 0, len(raw)/2)
		for k := 0; k+1 < len(raw); k += 2 {
			u16 = append(u16, uint16(raw[k])<<8|uint16(raw[k+1]))
		}
		out.WriteString(string(utf16.Decode(u16)))
		i = j - 1
		if j < len(b) && b[j] == '-' {
			i = j
		}
	}
	return strings.ToValidUTF8(out.String(), "\uFFFD")
}
