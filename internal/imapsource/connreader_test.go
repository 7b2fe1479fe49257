package imapsource

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/emersion/go-imap/v2"
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

// A server's NO about its own trouble (RFC 5530) is not the message's fault; a NO
// about the message is.
func TestServerTroubleIsNotTheMailsFault(t *testing.T) {
	for code, want := range map[imap.ResponseCode]bool{
		imap.ResponseCodeUnavailable: true, imap.ResponseCodeServerBug: true, imap.ResponseCodeInUse: true,
		imap.ResponseCodeLimit: true, imap.ResponseCodeParse: false, imap.ResponseCodeCorruption: false, "": false,
	} {
		err := fmt.Errorf("fetch uid 4: %w", &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: "x"})
		if got := serverTrouble(err); got != want {
			t.Errorf("NO [%s]: server trouble %v, want %v", code, got, want)
		}
	}
	if serverTrouble(errors.New("plain")) {
		t.Error("a plain error is no server trouble")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
