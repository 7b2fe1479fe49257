// SPDX-License-Identifier: MIT

// Package chart draws the figures of the desk's reports as PNG images, for mail
// clients that show an inline image but run no script. It is the one package that
// imports the plotting library (github.com/go-analyze/charts, pure Go, no external
// service); the rest of the desk hands it numbers and gets bytes back.
//
// Invariants:
//   - Labels and titles are printable ASCII. The library's embedded fonts (Roboto,
//     Noto Sans Display) have no CJK glyphs, and a Chinese label would be drawn as
//     empty boxes; rather than embed a CJK font of several megabytes, the charts carry
//     codes and English words and the report's tables carry the Chinese. A label
//     outside printable ASCII is an error, never a silently garbled picture.
//   - Drawing is deterministic: the same bars give the same bytes, so a rendered
//     report can be compared and stored once.
//   - No package-level state of ours; the library keeps its fonts and themes in its
//     own registries, which it sets up at init and only reads afterwards.
package chart

import (
	"errors"
	"fmt"

	charts "github.com/go-analyze/charts"
)

// Bar is one bar: a label under or beside it and its value.
type Bar struct {
	Label string
	Value float64
}

// Size of the drawn image in pixels: readable in a mail client's reading pane
// without scaling.
const (
	Width  = 640
	Height = 360
)

// ErrLabel reports a title or label the embedded fonts cannot draw.
var ErrLabel = errors.New("chart: label must be printable ASCII")

// HorizontalBars draws bars left to right, one per row in the given order (the first
// at the top), with each value written at the end of its bar, as a PNG image.
func HorizontalBars(title string, bars []Bar) ([]byte, error) {
	if len(bars) == 0 {
		return nil, errors.New("chart: no bars")
	}
	if !printable(title) {
		return nil, fmt.Errorf("%w: title %q", ErrLabel, title)
	}
	// The library draws a horizontal chart's categories bottom up: reverse them so
	// the first bar is at the top, as the tables read.
	labels := make([]string, len(bars))
	values := make([]float64, len(bars))
	for i, b := range bars {
		if !printable(b.Label) {
			return nil, fmt.Errorf("%w: %q", ErrLabel, b.Label)
		}
		labels[len(bars)-1-i], values[len(bars)-1-i] = b.Label, b.Value
	}
	opt := charts.NewBarChartOptionWithData([][]float64{values})
	opt.Horizontal = true
	opt.Title = charts.TitleOption{Text: title}
	opt.CategoryAxis.Labels = labels
	opt.ValueAxis[0].Min = charts.Ptr(0.0)
	opt.SeriesList[0].Label.Show = charts.Ptr(true)
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputPNG, Width: Width, Height: Height})
	if err := p.BarChart(opt); err != nil {
		return nil, fmt.Errorf("chart: draw bars: %w", err)
	}
	png, err := p.Bytes()
	if err != nil {
		return nil, fmt.Errorf("chart: encode png: %w", err)
	}
	return png, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
