package follow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSplit feeds chunks to the line splitter with a small MaxLineBytes.
func TestSplit(t *testing.T) {
	tests := []struct {
		name      string
		chunks    []string
		max       int
		want      []string
		wantCut   uint64 // bytes dropped
		wantLines uint64 // lines counted as cut
		pending   string // incomplete line held at the end
	}{
		{"whole lines", []string{"a\nbb\n"}, 8, []string{"a", "bb"}, 0, 0, ""},
		{"empty lines kept", []string{"\n\na\n"}, 8, []string{"", "", "a"}, 0, 0, ""},
		{"carriage return kept", []string{"a\r\n"}, 8, []string{"a\r"}, 0, 0, ""},
		{"partial held", []string{"a\nb"}, 8, []string{"a"}, 0, 0, "b"},
		{"partial completed", []string{"a\nb", "c\n"}, 8, []string{"a", "bc"}, 0, 0, ""},
		{"exactly max is not cut", []string{"abcd\n"}, 4, []string{"abcd"}, 0, 0, ""},
		{"exactly max split across reads", []string{"ab", "cd", "\nx\n"}, 4, []string{"abcd", "x"}, 0, 0, ""},
		{"complete long line cut", []string{"abcdef\nx\n"}, 4, []string{"abcd", "x"}, 2, 1, ""},
		{"long partial cut early", []string{"abcdef"}, 4, []string{"abcd"}, 2, 1, ""},
		{"long line across reads", []string{"abc", "def", "ghi", "\nx\n"}, 4, []string{"abcd", "x"}, 5, 1, ""},
		{"two long lines counted twice", []string{"abcdef\nghijkl\n"}, 4, []string{"abcd", "ghij"}, 4, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tf := &tailedFile{buf: make([]byte, 64), maxLine: tc.max}
			var got []string
			deliver := func(b []byte) { got = append(got, string(b)) }
			for _, ch := range tc.chunks {
				if tf.start > 0 {
					tf.end = copy(tf.buf, tf.buf[tf.start:tf.end])
					tf.start = 0
				}
				tf.end += copy(tf.buf[tf.end:], ch)
				tf.split(deliver)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lines = %q, want %q", got, tc.want)
			}
			if tf.cutBytes != tc.wantCut || tf.cutLines != tc.wantLines {
				t.Errorf("cut %d bytes in %d lines, want %d in %d", tf.cutBytes, tf.cutLines, tc.wantCut, tc.wantLines)
			}
			if p := string(tf.buf[tf.start:tf.end]); p != tc.pending {
				t.Errorf("pending %q, want %q", p, tc.pending)
			}
		})
	}
}

// TestRemember checks the fingerprint of the bytes before the offset.
func TestRemember(t *testing.T) {
	var tf tailedFile
	var all []byte
	for _, n := range []int{3, 10, 70, 1, 63, 64, 5} {
		data := []byte(strings.Repeat(string(rune('a'+n%26)), n))
		tf.remember(data)
		all = append(all, data...)
		want := all[max(0, len(all)-fpLen):]
		if got := tf.fp[:tf.fpN]; string(got) != string(want) {
			t.Fatalf("after %d bytes fingerprint = %q, want %q", len(all), got, want)
		}
	}
}

// TestSeekEnd checks where a first start with StartAt "end" begins.
func TestSeekEnd(t *testing.T) {
	tests := []struct {
		name, content  string
		wantDiscarding bool
	}{
		{"empty", "", false},
		{"ends with newline", "a\nb\n", false},
		{"ends inside a line", "a\nb", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			mustWriteFile(t, path, tc.content)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			tf := newTailedFile(path, fileID{}, fh, 8)
			if err := tf.seekEnd(); err != nil {
				t.Fatal(err)
			}
			if tf.off != int64(len(tc.content)) || tf.discarding != tc.wantDiscarding {
				t.Errorf("offset %d discarding %v, want %d %v", tf.off, tf.discarding, len(tc.content), tc.wantDiscarding)
			}
		})
	}
}
