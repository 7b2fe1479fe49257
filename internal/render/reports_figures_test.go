// SPDX-License-Identifier: MIT

package render

import (
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
)

// Only mail to the complainant acknowledges a case (the stats' time to acknowledge):
// the domain core's list of the kinds that do not agrees with the kinds' audiences.
func TestOnlyComplainantMailAcknowledgesACase(t *testing.T) {
	for _, k := range Kinds() {
		a, _ := AudienceOf(k)
		if got, want := cases.AcknowledgesComplainant(k), a == Complainant; got != want {
			t.Errorf("kind %s (audience %s): acknowledges the complainant %v, want %v", k, a, got, want)
		}
	}
}
