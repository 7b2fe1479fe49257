package imapsource

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/inbound"
)

// A mail cut off because the connection broke (a big mail is parsed straight from the
// connection) failed for the environment's fault, not its own; a mail read to its end
// keeps its own error.
func TestCutOffMailIsTheConnectionsFault(t *testing.T) {
	cut := &connReader{r: io.MultiReader(strings.NewReader("From: a@b\r\n"), errReader{errors.New("read tcp: connection reset by peer")})}
	_, err := io.ReadAll(cut)
	parseErr := errors.New("parse: unexpected end")
	got := cut.blame(parseErr)
	if !inbound.IsEnvironment(got) || !IsConnError(got) {
		t.Errorf("cut-off mail: %v, want an environment fault and a lost connection (read error %v)", got, err)
	}
	whole := &connReader{r: strings.NewReader("From: a@b\r\n\r\nbody")}
	io.ReadAll(whole)
	if got := whole.blame(parseErr); got != parseErr {
		t.Errorf("mail read whole: %v, want its own error", got)
	}
	if got := cut.blame(nil); got != nil {
		t.Errorf("no error: %v", got)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
