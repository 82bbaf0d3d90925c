package syslogrecv

import "testing"

func TestStripPRI(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"<34>Oct 11 22:14:15 host app: msg", "Oct 11 22:14:15 host app: msg", true},
		{"<0>x", "x", true},
		{"<191>x", "x", true},
		{"<034>x", "x", true},
		{"<34>", "", true},
		{"<34>1 2003-10-11T22:14:15.003Z host app - - - msg", "1 2003-10-11T22:14:15.003Z host app - - - msg", true},
		{"Feb 23 09:02:21.594 user.info CMS host:server: INFO : x", "Feb 23 09:02:21.594 user.info CMS host:server: INFO : x", true},
		{"", "", true},
		{"<192>x", "", false},
		{"<999>x", "", false},
		{"<1234>x", "", false},
		{"<>x", "", false},
		{"<3a>x", "", false},
		{"<-1>x", "", false},
		{"<34", "", false},
		{"<", "", false},
		{"< 34>x", "", false},
	}
	for _, tt := range tests {
		got, ok := stripPRI([]byte(tt.in))
		if ok != tt.wantOK || (ok && string(got) != tt.want) {
			t.Errorf("stripPRI(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
