package sim

import (
	"sort"
	"strconv"
)

// role is what a host runs, which decides the noise it logs.
type role uint8

const (
	roleWB role = iota
	roleCB
	roleBoth // a combined server
	roleOther

	numRoles
)

func roleOf(wb, cb bool) role {
	switch {
	case wb && cb:
		return roleBoth
	case wb:
		return roleWB
	case cb:
		return roleCB
	}
	return roleOther
}

// hostWeight is a host's share of the noise: Call Bridges trace every API
// and SIP exchange, so they are the loudest.
var hostWeight = [numRoles]int{roleWB: 2, roleCB: 3, roleBoth: 5, roleOther: 1}

const (
	onWB    = 1 << roleWB
	onCB    = 1 << roleCB
	onOther = 1 << roleOther
	onAll   = onWB | onCB | onOther
)

// noiseMsg is one kind of noise line. where is a mask of on* bits; a
// combined server logs what both a Web Bridge and a Call Bridge log.
// Weights are relative within a host's role; look-alikes weigh 1, about
// 0.4% of a host's noise.
type noiseMsg struct {
	weight int
	where  int
	write  func(s *Sim, h *host) []byte
}

// noiseTable holds, for one role, cumulative weights over noiseMsgs.
type noiseTable struct {
	cum  []int
	msgs []*noiseMsg
}

var noiseTables [numRoles]noiseTable

func init() {
	for r := range numRoles {
		mask := 1 << r
		if r == roleBoth {
			mask = onWB | onCB
		}
		t := &noiseTables[r]
		total := 0
		for i := range noiseMsgs {
			m := &noiseMsgs[i]
			if m.where&mask == 0 {
				continue
			}
			total += m.weight
			t.cum = append(t.cum, total)
			t.msgs = append(t.msgs, m)
		}
	}
}

func (s *Sim) buildNoise() {
	total := 0
	for i := range s.hosts {
		total += hostWeight[s.hosts[i].role]
		s.hostCum = append(s.hostCum, total)
	}
}

func (s *Sim) emitNoise(emit func([]byte)) {
	u := s.rng.IntN(s.hostCum[len(s.hostCum)-1])
	h := &s.hosts[sort.SearchInts(s.hostCum, u+1)]
	t := &noiseTables[h.role]
	m := t.msgs[sort.SearchInts(t.cum, s.rng.IntN(t.cum[len(t.cum)-1])+1)]
	s.flush(m.write(s, h), emit)
}

func (s *Sim) appendIP(b []byte) []byte {
	v := s.rng.Uint32()
	b = append(b, "10."...)
	b = strconv.AppendInt(b, int64(v>>24&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(v>>16&0xff), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(v&0xfe+1), 10)
}

func (s *Sim) appendHex(b []byte, n int) []byte {
	const digits = "0123456789abcdef"
	v := s.rng.Uint64()
	for i := 0; i < n; i++ {
		b = append(b, digits[v&15])
		v >>= 4
		if v == 0 {
			v = s.rng.Uint64()
		}
	}
	return b
}

func (s *Sim) appendInt(b []byte, lo, hi int64) []byte {
	return strconv.AppendInt(b, lo+s.rng.Int64N(hi-lo+1), 10)
}

func (s *Sim) pick(list []string) string { return list[s.rng.IntN(len(list))] }

var (
	apiGets = []string{
		"/api/v1/system/status", "/api/v1/system/status", "/api/v1/calls?offset=0&limit=20",
		"/api/v1/coSpaces?filter=sales&limit=10", "/api/v1/callLegs?limit=50", "/api/v1/system/alarms",
		"/api/v1/system/database", "/api/v1/webBridges", "/api/v1/callBridges",
	}
	sipHeaders = []string{
		"Server: Acano CallBridge", "Max-Forwards: 70", "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, INFO",
		"Supported: timer", "Content-Type: application/sdp", "User-Agent: Acano CallBridge",
		"Session-Expires: 1800;refresher=uac", "SIP/2.0 200 OK", "SIP/2.0 100 Trying",
	}
	people  = []string{"anna.berg", "j.smith", "m.rossi", "li.wei", "p.dubois", "k.tanaka", "o.nowak", "s.garcia"}
	cliCmds = []string{
		"webbridge", "callbridge", "syslog", "health", "ipv4 a", "dns", "user list", "ntp status",
		"syslog audit status", "webbridge3", "callbridge listen",
	}
	wbPaths = []string{"/api/auth/login", "/api/cms/callinfo", "/api/cms/participants", "/static/app.js", "/api/cms/ping"}
)

var noiseMsgs = []noiseMsg{
	{weight: 220, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "API trace "...)
		h.apiTrace++
		b = strconv.AppendInt(b, h.apiTrace, 10)
		b = append(b, `: GET for "`...)
		b = append(b, s.pick(apiGets)...)
		b = append(b, `" (from `...)
		b = s.appendIP(b)
		return append(b, ')')
	}},
	{weight: 40, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "API trace "...)
		h.apiTrace++
		b = strconv.AppendInt(b, h.apiTrace, 10)
		b = append(b, `: POST for "/api/v1/coSpaces/`...)
		b = s.appendHex(b, 8)
		b = append(b, '-')
		b = s.appendHex(b, 4)
		b = append(b, `/accessMethods" (from `...)
		b = s.appendIP(b)
		return append(b, ')')
	}},
	{weight: 260, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "SIP trace: "...)
		switch s.rng.IntN(5) {
		case 0:
			b = append(b, "Via: SIP/2.0/TLS "...)
			b = s.appendIP(b)
			b = append(b, ":5061;branch=z9hG4bK"...)
			b = s.appendHex(b, 16)
		case 1:
			b = append(b, "Call-ID: "...)
			b = s.appendHex(b, 24)
			b = append(b, '@')
			b = s.appendIP(b)
		case 2:
			b = append(b, "CSeq: "...)
			b = s.appendInt(b, 1, 3000)
			b = append(b, " INVITE"...)
		case 3:
			b = append(b, "Content-Length: "...)
			b = s.appendInt(b, 0, 4000)
		default:
			b = append(b, s.pick(sipHeaders)...)
		}
		return b
	}},
	{weight: 50, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "SIP trace: connection "...)
		h.sipConn++
		b = strconv.AppendInt(b, h.sipConn, 10)
		return append(b, ": read failure, code 104"...)
	}},
	{weight: 30, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "guest login request "...)
		h.guestReq++
		b = strconv.AppendInt(b, h.guestReq, 10)
		return append(b, ": resolution in progress"...)
	}},
	{weight: 40, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "call "...)
		h.call++
		b = strconv.AppendInt(b, h.call, 10)
		if s.rng.IntN(2) == 0 {
			b = append(b, `: incoming encrypted SIP call from "sip:`...)
			b = s.appendInt(b, 1000, 9999)
			b = append(b, `@example.com" to local URI "sip:`...)
			b = s.appendInt(b, 100000, 999999)
			return append(b, `@example.com"`...)
		}
		b = append(b, ": ending; remote SIP teardown - connected for "...)
		b = s.appendInt(b, 0, 90)
		b = append(b, ':')
		return append2(b, s.rng.IntN(60))
	}},
	{weight: 20, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, `participant "`...)
		b = append(b, s.pick(people)...)
		b = append(b, `" joined space `...)
		return s.appendHex(b, 8)
	}},
	{weight: 10, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlWarning)
		b = append(b, "rejecting login attempt from user '"...)
		b = append(b, s.pick(people)...)
		return append(b, "@example.com' -- authenticationId incorrect"...)
	}},
	{weight: 10, where: onCB | onWB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagClientBackend, lvlError)
		return append(b, "SamlManager : Invalid SSO login attempt"...)
	}},
	{weight: 20, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagAuthp, lvlNone)
		b = append(b, "Using authentication server cb_video."...)
		b = append(b, h.name...)
		return append(b, ".example to authenticate user (index: 1/1, reason: first match)"...)
	}},
	{weight: 10, where: onAll, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facLocal0, tagCLI, lvlNone)
		b = append(b, "User admin from "...)
		b = s.appendIP(b)
		b = append(b, ':')
		b = s.appendInt(b, 1024, 65535)
		b = append(b, " issued command < "...)
		b = append(b, s.pick(cliCmds)...)
		return append(b, ">: permission granted"...)
	}},
	{weight: 200, where: onWB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagWebBridge, lvlInfo)
		b = appendDebug(b, h)
		switch s.rng.IntN(3) {
		case 0:
			b = append(b, "websocket: connection "...)
			b = s.appendInt(b, 1, 99999)
			b = append(b, " established from "...)
			b = s.appendIP(b)
		case 1:
			b = append(b, "websocket: connection "...)
			b = s.appendInt(b, 1, 99999)
			b = append(b, " closed (code 1000)"...)
		default:
			b = append(b, "GET "...)
			b = append(b, s.pick(wbPaths)...)
			b = append(b, " 200 "...)
			b = s.appendInt(b, 1, 900)
			b = append(b, "ms"...)
		}
		return b
	}},
	{weight: 20, where: onWB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagWebBridge, lvlInfo)
		b = append(b, "guest join request for call "...)
		return s.appendHex(b, 12)
	}},
	{weight: 10, where: onWB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagWebBridge, lvlWarning)
		b = append(b, "websocket: connection "...)
		b = s.appendInt(b, 1, 99999)
		return append(b, ": ping timeout"...)
	}},
	{weight: 60, where: onOther, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "recorder: recording "...)
		b = s.appendHex(b, 8)
		b = append(b, ": wrote "...)
		b = s.appendInt(b, 1, 5000)
		return append(b, " kB"...)
	}},
	{weight: 20, where: onOther, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "database cluster: node "...)
		b = s.appendIP(b)
		return append(b, " is healthy"...)
	}},

	// Look-alikes: a stats marker inside another message's text. Each must
	// stay noise for any parser that reads the header properly.
	{weight: 1, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, `participant "Stats `...)
		b = s.appendInt(b, 1, 149)
		b = append(b, ", c:1, d:1\" joined space "...)
		return s.appendHex(b, 8)
	}},
	{weight: 1, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, `SIP trace: Subject: STATS: {"CMA": "`...)
		b = s.appendInt(b, 50, 99)
		return append(b, `/99", "callLegs": "1/1"}`...)
	}},
	{weight: 1, where: onCB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagServer, lvlInfo)
		b = append(b, "API trace "...)
		h.apiTrace++
		b = strconv.AppendInt(b, h.apiTrace, 10)
		b = append(b, `: POST for "/api/v1/coSpaces" (from `...)
		b = s.appendIP(b)
		return append(b, `) name="webbridge: INFO : [DEBUGGING] Stats 5, c:1, d:1"`...)
	}},
	{weight: 1, where: onWB, write: func(s *Sim, h *host) []byte {
		b := s.begin(h, facUser, tagWebBridge, lvlInfo)
		b = appendDebug(b, h)
		b = append(b, `guest display name "Stats `...)
		b = s.appendInt(b, 1, 149)
		return append(b, `, c:1, d:1" accepted`...)
	}},
}
