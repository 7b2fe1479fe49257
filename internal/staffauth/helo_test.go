// SPDX-License-Identifier: MIT

package staffauth

import "testing"

// With TrustedHop set, only Authentication-Results above our border's Received line
// count. Postfix writes the client's HELO name, as sent, right after "from": a client
// that said "HELO by" made our border's line read "by by", one with a parenthesis or a
// quote in its HELO blinded the line, and a HELO of several words ("x by
// evil.example") put another host after the first "by". A Received line the sender
// wrote lower down was then taken for our border, and the sender's own
// Authentication-Results above it trusted: a forged staff command ran (found in
// review, twice).
func TestHELODoesNotHideOurBorder(t *testing.T) {
	c := cfg(ModeAuthResults)
	fakeBorder := "from a by mx.example.cn; Mon, 1 Dec 2026 09:59:00 +0800" // written by the sender
	for _, helo := range []string{"by", "(x", `"x`, "x)by", "x by evil.example", "x by", "x by evil.example (", "mail.evil.example"} {
		ownBorder := "from " + helo + " (unknown [198.51.100.7]) by mx.example.cn (Postfix) with ESMTP id 4Y; Mon, 1 Dec 2026 10:00:00 +0800"
		if !receivedByHop(ownBorder, "mx.example.cn") {
			t.Errorf("HELO %q: our border's line is not seen as by mx.example.cn", helo)
		}
		in := Input{From: staffA, Trace: []Trace{
			{Received: true, Value: ownBorder},
			{Value: ourAR}, // forged: below our border's Received line
			{Received: true, Value: fakeBorder},
		}}
		if d := Verify(c, in); d.OK {
			t.Errorf("HELO %q: a pass written by the sender below our border was trusted: %s", helo, d.Reason)
		}
	}
	for _, v := range []string{"from", "from x", "by", "by mx.example.cn;", " from\vx\tby  mx.example.cn", "from 王 by mx.example.cn"} {
		receivedByHop(v, "mx.example.cn") // no panic on short or odd lines
	}
	if receivedByHop("from mx.example.cn by other.example.cn", "mx.example.cn") {
		t.Error("a line from our border host, by another, is taken for our border")
	}
}
