package schedule

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// State is what `schedule status` shows.
type State struct {
	// Method is the installed method, "" when nothing is installed.
	Method Method `json:"method,omitempty"`
	// Interval is the installed interval ("" when unknown).
	Interval Interval `json:"interval,omitempty"`
	// Files are the schedule's files present on the host.
	Files []string `json:"files,omitempty"`
	// Enabled: the timer is linked into timers.target (systemd) or the cron entry exists.
	Enabled bool `json:"enabled"`
	// LastRun is when the last scheduled run started (systemd) or wrote its report; zero if
	// unknown.
	LastRun time.Time `json:"last_run,omitzero"`
	// NextRun is when the next run is due; zero if unknown (e.g. systemd not running).
	NextRun time.Time `json:"next_run,omitzero"`
	// LastScore is the last report's score ("87/100, grade B"), "" when no report exists.
	LastScore string `json:"last_score,omitempty"`
	// Notes explain unknown values.
	Notes []string `json:"notes,omitempty"`
}

// Status reports the installed schedule. now is the current time (for the next cron run).
func Status(ctx context.Context, opts Options, now time.Time) (*State, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.Systemctl == nil {
		opts.Systemctl = ExecSystemctl{}
	}
	st := &State{}
	timerOurs, err := ours(&opts, SystemdDir+"/"+TimerName)
	if err != nil {
		return nil, err
	}
	cronOurs, err := ours(&opts, CronPath)
	if err != nil {
		return nil, err
	}
	switch {
	case timerOurs:
		st.Method = Systemd
		if err := systemdStatus(ctx, &opts, st); err != nil {
			return nil, err
		}
	case cronOurs:
		st.Method = Cron
		if err := cronStatus(&opts, st, now); err != nil {
			return nil, err
		}
	}
	readLastReport(&opts, st)
	return st, nil
}

func systemdStatus(ctx context.Context, o *Options, st *State) error {
	for _, p := range []string{SystemdDir + "/" + ServiceName, SystemdDir + "/" + TimerName, WantsDir + "/" + TimerName} {
		if _, err := os.Lstat(o.path(p)); err == nil {
			st.Files = append(st.Files, p)
		}
	}
	_, err := os.Lstat(o.path(WantsDir + "/" + TimerName))
	st.Enabled = err == nil
	data, err := os.ReadFile(o.path(SystemdDir + "/" + TimerName))
	if err != nil {
		return fmt.Errorf("read %s: %w", TimerName, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "OnCalendar="); ok {
			st.Interval = Interval(strings.TrimSpace(v))
		}
	}
	if !o.liveSystemd() {
		st.Notes = append(st.Notes, "systemd is not running here: next run unknown")
		return nil
	}
	out, err := o.Systemctl.Run(ctx, "show", TimerName, "--timestamp=unix",
		"--property=LastTriggerUSec", "--property=NextElapseUSecRealtime")
	if err != nil {
		st.Notes = append(st.Notes, err.Error())
		return nil
	}
	props := parseShow(out)
	st.LastRun = parseUnixStamp(props["LastTriggerUSec"])
	st.NextRun = parseUnixStamp(props["NextElapseUSecRealtime"])
	return nil
}

// parseShow parses `systemctl show` key=value lines.
func parseShow(out []byte) map[string]string {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			props[k] = v
		}
	}
	return props
}

// parseUnixStamp parses "@1700000000" (systemctl show --timestamp=unix); zero otherwise.
func parseUnixStamp(v string) time.Time {
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "@"), 10, 64)
	if err != nil || n <= 0 || !strings.HasPrefix(v, "@") {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// cronLine matches the schedule line this package writes.
var cronLine = regexp.MustCompile(`^(\d+) (\S+) \* \* (\S+) root `)

func cronStatus(o *Options, st *State, now time.Time) error {
	st.Files = []string{CronPath}
	st.Enabled = true
	data, err := os.ReadFile(o.path(CronPath))
	if err != nil {
		return fmt.Errorf("read %s: %w", CronPath, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		m := cronLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		minute, _ := strconv.Atoi(m[1])
		switch {
		case m[2] == "*":
			st.Interval = Hourly
		case m[3] == "*":
			st.Interval = Daily
		default:
			st.Interval = Weekly
		}
		hour, _ := strconv.Atoi(m[2])
		dow, _ := strconv.Atoi(m[3])
		st.NextRun = nextCron(st.Interval, minute, hour, dow, now)
	}
	if st.Interval == "" {
		st.Notes = append(st.Notes, CronPath+" has no schedule line this version understands")
	}
	return nil
}

// nextCron is the next time after now (in now's location, as cron uses local time) that
// matches the entry's fields.
func nextCron(interval Interval, minute, hour, dow int, now time.Time) time.Time {
	t := now.Truncate(time.Minute).Add(time.Minute)
	for range 8 * 24 * 60 {
		if t.Minute() == minute &&
			(interval == Hourly || t.Hour() == hour) &&
			(interval != Weekly || int(t.Weekday()) == dow) {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

// readLastReport fills the score and, when systemd did not say, the last run time from the
// report the scheduled run writes.
func readLastReport(o *Options, st *State) {
	full := o.path(ReportPath)
	fi, err := os.Stat(full)
	if err != nil {
		return
	}
	if st.LastRun.IsZero() {
		st.LastRun = fi.ModTime()
	}
	f, err := os.Open(full)
	if err != nil {
		st.Notes = append(st.Notes, fmt.Sprintf("read %s: %v", ReportPath, err))
		return
	}
	defer f.Close()
	var rep struct {
		Summary struct {
			Scored bool   `json:"scored"`
			Score  int    `json:"score"`
			Grade  string `json:"grade"`
		} `json:"summary"`
	}
	if err := json.NewDecoder(f).Decode(&rep); err != nil {
		st.Notes = append(st.Notes, fmt.Sprintf("parse %s: %v", ReportPath, err))
		return
	}
	if rep.Summary.Scored {
		st.LastScore = fmt.Sprintf("%d/100, grade %s", rep.Summary.Score, rep.Summary.Grade)
	} else {
		st.LastScore = "n/a"
	}
}
