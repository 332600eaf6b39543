package console

import (
	"bytes"
	"context"
	"testing"
	"unicode/utf8"
)

// Serial output becomes valid UTF-8 text frames: characters split across
// reads are joined, invalid bytes become U+FFFD, nothing else changes.
func TestTextFrames(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"ascii and controls", []string{"login: \r\n\x1b[6n"}, "login: \r\n\x1b[6n"},
		{"split two-byte character", []string{"h\xc3", "\xa9llo"}, "h\u00e9llo"},
		{"split four-byte character, byte by byte", []string{"\xf0", "\x9f", "\x98", "\x80!"}, "\U0001F600!"},
		{"invalid bytes", []string{"a\xffb\xfe"}, "a\uFFFDb\uFFFD"},
		{"unfinished at the end", []string{"ok\xe2\x82"}, "ok\uFFFD"},
	}
	for _, tc := range cases {
		var tf textFrames
		var out []byte
		for _, c := range tc.chunks {
			p := tf.next([]byte(c))
			if !utf8.Valid(p) {
				t.Errorf("%s: frame %q is not UTF-8", tc.name, p)
			}
			out = append(out, p...)
		}
		out = append(out, tf.flush()...)
		if string(out) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, out, tc.want)
		}
	}
}

// The queue keeps order, holds at most its budget (but always one
// message), and drains before reporting its end.
func TestQueue(t *testing.T) {
	ctx := context.Background()
	q := newQueue(10)
	big := bytes.Repeat([]byte("x"), 50)
	if !q.push(big) {
		t.Fatal("an empty queue refused a message over the budget")
	}
	if q.push([]byte("y")) {
		t.Fatal("a queue past its budget took more")
	}
	if p, ok := q.pop(ctx); !ok || !bytes.Equal(p, big) {
		t.Fatal("lost the first message")
	}
	for _, s := range []string{"abc", "defg", "hij"} {
		if !q.push([]byte(s)) {
			t.Fatalf("refused %q within the budget", s)
		}
	}
	if q.push([]byte("k")) {
		t.Error("took an 11th byte")
	}
	q.close()
	var got []byte
	for {
		p, ok := q.pop(ctx)
		if !ok {
			break
		}
		got = append(got, p...)
	}
	if string(got) != "abcdefghij" {
		t.Errorf("drained %q", got)
	}
	if q.push([]byte("z")) {
		t.Error("a closed queue took a message")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := newQueue(1).pop(cancelled); ok {
		t.Error("pop on an empty queue with an ended context returned a message")
	}
}
