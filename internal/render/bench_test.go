// SPDX-License-Identifier: MIT

package render

import (
	"testing"

	"github.com/complaintd/complaintd/templates"
)

// BenchmarkLoad measures a full load and validation of the default set.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(templates.FS(), "zh-CN"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender measures one acknowledgement with every part.
func BenchmarkRender(b *testing.B) {
	s, err := Load(templates.FS(), "zh-CN")
	if err != nil {
		b.Fatal(err)
	}
	d := SampleData(KindAcknowledgement)
	for b.Loop() {
		if _, err := s.Render(KindAcknowledgement, "zh-CN", d); err != nil {
			b.Fatal(err)
		}
	}
}
