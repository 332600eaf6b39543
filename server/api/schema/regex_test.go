package schema

import (
	"sync"
	"testing"
)

// Each case is a Python pattern, a string, and whether CPython's re.search
// finds a match.
var regexCases = []struct {
	pattern, s string
	match      bool
}{
	{"^[0-9]*$", "", true},
	{"^[0-9]*$", "5", true},
	{"^[0-9]*$", "5\n", true},
	{"^[0-9]*$", "5\n\n", false},
	{"^[0-9]*$", "\n", true},
	{"^[0-9]*$", "a5", false},
	{"^[0-9]*$", "٣", false},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "ab", true},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", " ab", false},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "ab ", false},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "a b", true},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "ab\n", true},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "ab \n", false},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "\n", false},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", " ", false},
	{"^(?! )[a-zA-Z0-9. _-]+(?<! )$", "a", true},
	{"\\d+", "x٣y", true},
	{"\\d+", "abc", false},
	{"\\d+", "12", true},
	{"^\\d+$", "٣٤", true},
	{"^\\d+$", "1a", false},
	{"(:\\w+)*", "", true},
	{"(:\\w+)*", ":é", true},
	{"(:\\w+)*", "!!", true},
	{"^\\w+$", "é_1", true},
	{"^\\w+$", "a-b", false},
	{"^\\w+$", "ﾃ", true},
	{"[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*", "a:1, b:2", true},
	{"[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*", "a:1\u3000,b:2", true},
	{"[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*", ":1", false},
	{"^[_\\-\\@\\. a-zA-Z0-9]+$", "a@b.c", true},
	{"^[_\\-\\@\\. a-zA-Z0-9]+$", "a/b", false},
	{"^[a-zA-Z0-9-_:. ]{1,255}$", "a-b_c:d. e", true},
	{"^[a-zA-Z0-9-_:. ]{1,255}$", "a!", false},
	{"^[a-zA-Z0-9-_:. ]{1,255}$", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true},
	{"^[a-zA-Z0-9-_:. ]{1,255}$", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false},
	{"^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$", "aa:bb:cc:dd:ee:ff", true},
	{"^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$", "aa:bb:cc:dd:ee", false},
	{"^a{,2}$", "", true},
	{"^a{,2}$", "aa", true},
	{"^a{,2}$", "aaa", false},
	{"^a{2,}$", "a", false},
	{"^a{2,}$", "aaa", true},
	{"^x{y$", "x{y", true},
	{"^[]a]+$", "]a", true},
	{"^[]a]+$", "b", false},
	{"^[^]a]+$", "bc", true},
	{"^[^]a]+$", "]", false},
	{"^\\x41\\u00e9\\U0001F600\\101$", "Aé😀A", true},
	{"abc\\Z", "xabc", true},
	{"abc\\Z", "abc\n", false},
	{"(?i)^ABC$", "abc", true},
	{"^(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)$", "2Gi", true},
	{"^(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)$", "4k", true},
	{"^(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)$", "x", false},
	{"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$", "/dev/vda", true},
	{"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$", "/dev/xvdb1", true},
	{"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$", "vda", false},
	{"^[\\s]+$", "\t\u00a0 ", true},
	{"^[\\s]+$", "x", false},
	{"^[\\d.]+$", "1.٣", true},
	{"^[\\d.]+$", "a", false},
	{"^(?=a)\\w+$", "ab", true},
	{"^(?=a)\\w+$", "ba", false},
	{"^\\w+(?<=b)$", "ab", true},
	{"^\\w+(?<=b)$", "ba", false},
	{"^a$|^b$", "a", true},
	{"^a$|^b$", "b\n", true},
	{"^a$|^b$", "c", false},
}

func TestPythonRegexSemantics(t *testing.T) {
	for _, tc := range regexCases {
		re, err := compilePattern(tc.pattern)
		if err != nil {
			t.Errorf("compile %q: %v", tc.pattern, err)
			continue
		}
		if got := re.search(tc.s); got != tc.match {
			t.Errorf("re.search(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.match)
		}
	}
}

// Constructs RE2 cannot express are reported by Compile rather than
// silently mismatching.
func TestRegexUnsupported(t *testing.T) {
	for _, p := range []string{`(a)\1`, `a(?=b)c`, `(?<!x)a|b$`, `(?x) a`, `(?>a)`, `[\W]`} {
		if err := Compile(&Schema{Pattern: p}); err == nil {
			t.Errorf("Compile(%q) succeeded", p)
		}
	}
	for _, p := range []string{`(`, `[a`, `a\`, `\q`} {
		if err := Compile(&Schema{PatternProperties: []PatternProperty{{Pattern: p}}}); err == nil {
			t.Errorf("Compile(%q) succeeded", p)
		}
	}
}

// Many goroutines validating with one schema share the compiled patterns
// (run with -race).
func TestConcurrentValidation(t *testing.T) {
	s := &Schema{Type: []string{"string"}, Pattern: `^(?! )[a-z ]+(?<! )$`}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if s.Validate("a b") != nil || s.Validate(" ab") == nil {
					t.Error("wrong result under concurrency")
					return
				}
				if serverCreate.Validate(NewObject()) == nil {
					t.Error("wrong result under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
}
