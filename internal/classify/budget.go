package classify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
)

// errBudget stops a read that would spend more than the message's budget.
var errBudget = errors.New("message budget spent")

// budgetCheckTokens is how often (in XML tokens) a docx read looks at the clock: often
// enough to stop within milliseconds, rarely enough to cost nothing.
const budgetCheckTokens = 1024

// budget is what one message may still cost the classifier: the time its context
// allows and the bytes it may still inflate, summed over every archive and .docx it
// carries (a mail of eight small bombs costs what one would). Not safe for concurrent
// use: one Classify call owns it.
type budget struct {
	ctx     context.Context
	left    int64 // inflated bytes still allowed
	max     int64
	stopped string // why reading stopped; "" while within budget
}

func newBudget(ctx context.Context, maxInflate int64) *budget {
	return &budget{ctx: ctx, left: maxInflate, max: maxInflate}
}

// unlimited is the budget of the exported single-file readers: their own caps bound them.
func unlimited() *budget { return newBudget(context.Background(), math.MaxInt64) }

// spent reports whether reading must stop, recording why the first time.
func (b *budget) spent() bool {
	if b.stopped != "" {
		return true
	}
	switch {
	case b.ctx.Err() != nil:
		b.stopped = "the message's time budget ran out"
	case b.left < 0:
		b.stopped = fmt.Sprintf("the message's decompression budget (%d bytes inflated) ran out", b.max)
	default:
		return false
	}
	return true
}

// reader counts what r inflates against the budget; it fails with errBudget once
// the budget is spent.
func (b *budget) reader(r io.Reader) io.Reader { return &meteredReader{r: r, b: b} }

type meteredReader struct {
	r io.Reader
	b *budget
}

func (m *meteredReader) Read(p []byte) (int, error) {
	if m.b.spent() {
		return 0, errBudget
	}
	// One byte past the allowance tells a file that fits exactly from one that does not.
	if m.b.left < int64(len(p)) {
		p = p[:m.b.left+1]
	}
	n, err := m.r.Read(p)
	m.b.left -= int64(n)
	if m.b.spent() {
		return n, errBudget
	}
	return n, err
}
