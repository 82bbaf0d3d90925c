// Package sim simulates the syslog of a Cisco Meeting Server cluster whose
// Web Bridges 2 may leak sessions (bug CSCvt73723), together with the ground
// truth behind every line.
//
// A Sim models genuine WebRTC sessions spread over the Web Bridges (DNS round
// robin), each with its call on some Call Bridge (load balancing), CMA
// desktop and iOS clients that never touch a Web Bridge, SIP calls, and a
// leak per Web Bridge. Load follows office hours: a weekday peak with a
// lunch dip, quiet nights and weekends. From that state it writes:
//
//   - Web Bridge `Stats N, c:C, d:D` every WBInterval, where N is genuine plus
//     leaked sessions, never above the bridge's limit (149): at the limit new
//     users are refused. c and d are cumulative and keep growing; c - d is
//     not N, as in Cisco's own sample.
//   - Call Bridge `STATS: {...}` every CBInterval, where "CMA": "X/Y" has X
//     = WebRTC calls plus desktop and iOS clients on that Call Bridge, and Y
//     the true peak of X since the previous report.
//   - Noise, NoisePerStats lines per stats line (99% by default): API and SIP
//     traces, logins, CLI audit lines, and look-alikes that carry a stats
//     marker inside another message's text.
//
// Each host writes one header form of domain.md throughout (BSD with or
// without milliseconds, ISO, <PRI>, receiver-prepended), with its own tag
// quoting, [DEBUG] or [DEBUGGING], spacing and level padding; hosts differ.
// Hosts may have a fixed clock skew (Config.ClockSkew). Timestamps are in
// Config.Start's zone, so a start in late December crosses into January.
//
// Advance runs simulated time and hands out lines; Stream does the same at
// each tick of a caller's clock, writing whole lines to an io.Writer, for a
// live demo at an accelerated cadence. RestartWebBridge does what
// `webbridge restart` on the MMP does (all sessions on that bridge end, it is
// down for a while, users come back later), so a fake MMP can drive it. Truth
// returns the state an estimator must bound: its lower bound of a bridge's
// leak must never exceed WebBridgeTruth.Leaked.
//
// Config.Hazards adds the lies of a real syslog, for property tests: Call
// Bridge reports that come irregularly or get lost, hosts gone silent,
// restarts made by hand (counters back to zero), stray and look-alike hosts,
// lines stamped in the future or the past, and duplicated lines. Each hazard
// draws from its own random stream, so switching one off leaves the rest of
// the output as it was; the truth counts only the lines really written.
//
// The output is a pure function of the Config (Seed included) and of the
// sequence of calls: the same calls give the same bytes, however Advance is
// split. Nothing reads the wall clock.
package sim
