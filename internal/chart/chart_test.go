// SPDX-License-Identifier: MIT

package chart

import (
	"bytes"
	"errors"
	"image/png"
	"testing"
)

// The chart is a PNG a mail client can show: it decodes, has the promised size, and
// the same bars give the same bytes.
func TestHorizontalBarsIsAPNG(t *testing.T) {
	bars := []Bar{{"incomplete", 3}, {"pending_review", 5}, {"resolved", 1}, {"expired", 0}}
	b, err := HorizontalBars("Cases received, by state", bars)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != Width || r.Dy() != Height {
		t.Errorf("size %v, want %dx%d", r, Width, Height)
	}
	again, err := HorizontalBars("Cases received, by state", bars)
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("drawing the same bars twice gave different bytes (err %v)", err)
	}
	other, _ := HorizontalBars("Cases received, by state", []Bar{{"incomplete", 4}, {"pending_review", 5}, {"resolved", 1}, {"expired", 0}})
	if bytes.Equal(other, b) {
		t.Error("different values drew the same picture")
	}
}

// Chinese would be drawn as empty boxes by the embedded fonts: refused, not garbled.
func TestHorizontalBarsRefusesWhatItCannotDraw(t *testing.T) {
	for _, tc := range []struct {
		why   string
		title string
		bars  []Bar
	}{
		{"a Chinese label", "Cases", []Bar{{"财经", 1}}},
		{"a Chinese title", "案件", []Bar{{"news", 1}}},
		{"a control character", "Cases\n", []Bar{{"news", 1}}},
	} {
		if _, err := HorizontalBars(tc.title, tc.bars); !errors.Is(err, ErrLabel) {
			t.Errorf("%s: err %v, want ErrLabel", tc.why, err)
		}
	}
	if _, err := HorizontalBars("Cases", nil); err == nil {
		t.Error("no bars: want an error")
	}
}
