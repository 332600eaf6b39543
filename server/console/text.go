package console

import (
	"strings"
	"unicode/utf8"
)

// textFrames turns a byte stream into valid UTF-8 text for websocket text
// frames: a character split across two reads is held back until its end
// arrives, and bytes that are not UTF-8 become U+FFFD (a browser fails the
// whole connection on one invalid text frame).
type textFrames struct {
	carry []byte
}

// next returns the text of p that is complete so far.
func (t *textFrames) next(p []byte) []byte {
	b := append(t.carry, p...)
	cut := len(b)
	// Look back at most 3 bytes for the start of an unfinished character.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				cut = i
			}
			break
		}
	}
	t.carry = append([]byte(nil), b[cut:]...)
	return []byte(strings.ToValidUTF8(string(b[:cut]), "\uFFFD"))
}

// flush returns what is held back, when the stream ends.
func (t *textFrames) flush() []byte {
	if len(t.carry) == 0 {
		return nil
	}
	out := []byte(strings.ToValidUTF8(string(t.carry), "\uFFFD"))
	t.carry = nil
	return out
}
